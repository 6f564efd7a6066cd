"""Exhaustive scoring of one profile against items, written plainly (the benchmarks' yardstick).

The production matcher scores every model in the table at once, as arrays over models (segment.py,
fusion.py). This module scores one profile at a time from its own parts, the long way round, over
a handful of items: the components straight from the parts' vectors and words, standardised
with the profile's Calibration as fusion.py describes, and the matcher's rules for filters,
exclusions and bonuses. `horizon bench scale` compares the production path's deliveries with
this, profile by profile, and the tests compare the two on random populations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from contracts import TopicTag
from services.classify import lexical
from services.classify.parts import DISLIKED, EXAMPLE, EXCLUSION, INTEREST, lexical_coefficients
from services.classify.profiles import ProfileModel
from services.classify.fusion import (
    COMPONENTS, FIT, FIT_WEIGHT, GATE_SLOPE, TOPICAL, WEIGHTS, Z_SLOPE, Calibration,
)
from services.classify.segment import (
    ASKED_BONUS, DISLIKED_NEAR_COPY, EXCLUSION_MIN, FEATURES, TOPIC_BONUS, TRANSLATED_PENALTY,
)


@dataclass(frozen=True)
class RefPart:
    vector: np.ndarray
    lexical: Mapping[int, float]
    length: int  # a statement's number of words


@dataclass(frozen=True)
class RefItem:
    dense: np.ndarray
    lexical: Mapping[int, float]  # expanded from its neighbours, as the matcher scores it
    design: frozenset[str]
    evidence_type: str
    source_id: str
    tags: Sequence[TopicTag]
    terms: frozenset[str]


class RefItems:
    """Items to score, with what every profile needs of them computed once."""

    def __init__(self, items: Sequence[RefItem]) -> None:
        self.items = list(items)
        self.dense = np.asarray([i.dense for i in items], np.float64)
        self.translated = np.array([lexical.TRANSLATED in i.design for i in items])
        self.markers = np.array([[f in i.design for f in FEATURES] for i in items], np.float64)

    def __len__(self) -> int:
        return len(self.items)

    @cached_property
    def _words(self) -> tuple[dict[int, int], np.ndarray]:
        column: dict[int, int] = {}
        for item in self.items:
            for t in item.lexical:
                column.setdefault(t, len(column))
        table = np.zeros((len(self.items), len(column) + 1))  # a last column of zeros for words no item has
        for n, item in enumerate(self.items):
            for t, w in item.lexical.items():
                table[n, column[t]] = w
        return column, table

    def dot(self, vector: Mapping[int, float]) -> np.ndarray:
        """Each item's lexical vector dotted with `vector`."""
        column, table = self._words
        cols = [column.get(t, -1) for t in vector]
        return table[:, cols] @ np.fromiter(vector.values(), np.float64, len(vector))


def profile_lexical(model: ProfileModel, parts: Mapping[str, RefPart]) -> dict[int, float]:
    """The profile's lexical vector: its statements' and examples' vectors, weighted."""
    statements = [parts[k] for k in model.parts.get(INTEREST, [])]
    examples = [parts[k] for k in model.parts.get(EXAMPLE, [])]
    s_coef, e_coef = lexical_coefficients([p.length for p in statements], len(examples))
    out: dict[int, float] = {}
    for coef, part in zip(s_coef + e_coef, statements + examples):
        for t, w in part.lexical.items():
            out[t] = out.get(t, 0.0) + coef * w
    return out


def _z(calibration: Calibration, name: str, values: np.ndarray) -> np.ndarray:
    """Calibration.z of one component for each item."""
    mean, std = calibration.stats_of(name)
    return WEIGHTS[name] * (values - mean) / max(std, 1e-6)


def fuse_items(components: Mapping[str, np.ndarray | None], calibration: Calibration, k: int) -> np.ndarray:
    """The fused z of each of k items: the topical part plus the gated fit part, rescaled for the
    components missing (fusion.py)."""
    present = [c for c in COMPONENTS if components.get(c) is not None]
    if not present:
        return np.full(k, -np.inf)
    topical = sum((_z(calibration, c, components[c]) for c in TOPICAL if c in present), np.zeros(k))
    fit = sum((_z(calibration, c, components[c]) for c in FIT if c in present), np.zeros(k))
    if calibration.gate is None:
        gate = np.full(k, 0.5)
    else:
        x = -GATE_SLOPE * (topical - calibration.gate[0]) / max(calibration.gate[1], 1e-6)
        gate = np.array([0.0 if v > 700 else 1.0 / (1.0 + np.exp(v)) for v in x])
    return (topical + FIT_WEIGHT * gate * fit) * sum(WEIGHTS.values()) / sum(WEIGHTS[c] for c in present)


def decide_many(model: ProfileModel, parts: Mapping[str, RefPart], items: RefItems, threshold: float,
                lexical_vector: Mapping[int, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each item: whether it goes to the profile, its fused z and its score."""
    k = len(items)

    def cosines(role: str) -> np.ndarray:
        keys = model.parts.get(role, [])
        if not keys:
            return np.zeros((0, k))
        return np.asarray([parts[key].vector for key in keys], np.float64) @ items.dense.T

    allowed = np.array([(not model.content_types or i.evidence_type in model.content_types)
                        and (not model.sources or i.source_id in model.sources)
                        and not any(e and all(t in i.terms for t in e) for e in model.word_exclusions)
                        for i in items.items])
    interests, examples = cosines(INTEREST), cosines(EXAMPLE)
    disliked, exclusion = cosines(DISLIKED), cosines(EXCLUSION)
    if len(disliked):
        allowed &= disliked.max(axis=0) < DISLIKED_NEAR_COPY
    if len(exclusion):
        positive = np.maximum(interests.max(axis=0) if len(interests) else -1.0,
                              examples.max(axis=0) if len(examples) else -1.0)
        worst = exclusion.max(axis=0)
        allowed &= ~((worst >= EXCLUSION_MIN) & (worst >= np.maximum(positive, -1.0)))
    tags = np.array([max((t.score for t in i.tags if t.topic_id in model.topics), default=-np.inf)
                     for i in items.items])
    has_tag = np.isfinite(tags)
    if not model.has_text:
        score = np.where(has_tag, tags, 0.0)
        return allowed & (score >= threshold), np.where(has_tag, tags, -np.inf), score
    vector = profile_lexical(model, parts) if lexical_vector is None else lexical_vector
    design = None
    if model.design:
        present = np.array([model.design.get(f, (0.0, 0.0))[0] for f in FEATURES])
        absent = np.array([model.design.get(f, (0.0, 0.0))[1] for f in FEATURES])
        design = items.markers @ present + (1.0 - items.markers) @ absent
    components = {
        "interest": interests.max(axis=0) if len(interests) else None,
        "example": examples.mean(axis=0) if len(examples) else None,
        "lexical": items.dot(vector) if vector else np.zeros(k),
        "design": design,
    }
    z = fuse_items(components, model.calibration, k)
    z = z + np.where(has_tag, TOPIC_BONUS * np.where(has_tag, tags, 0.0), 0.0)
    z = z + ASKED_BONUS * np.array([i.evidence_type in model.asked_types for i in items.items])
    z = z - TRANSLATED_PENALTY * (items.translated & (not model.translated_ok))
    x = -Z_SLOPE * (z - model.calibration.cut)
    score = np.array([0.0 if v > 700 else 1.0 / (1.0 + np.exp(v)) for v in x])
    return allowed & (score >= threshold), z, score
