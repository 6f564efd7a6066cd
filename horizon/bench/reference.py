"""Exhaustive scoring of one profile against one item, written plainly (the benchmarks' yardstick).

The production matcher scores every model in the table at once, as arrays (segment.py,
fusion.py). This module scores one (item, profile) pair the long way, from the profile's own
parts, with scoring.py's one-profile definitions (`fuse`, `example_score`, `design_score`,
`calibrated_score`) and the matcher's rules for filters, exclusions and bonuses. `horizon bench
scale` compares the production path's deliveries with this, profile by profile, and the tests
compare the two on random populations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from contracts import TopicTag
from services.classify import lexical
from services.classify.parts import DISLIKED, EXAMPLE, EXCLUSION, INTEREST, lexical_coefficients
from services.classify.profiles import ProfileModel
from services.classify.scoring import calibrated_score, design_score, example_score, fuse
from services.classify.segment import (
    ASKED_BONUS, DISLIKED_NEAR_COPY, EXCLUSION_MIN, TOPIC_BONUS, TRANSLATED_PENALTY,
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


def decide(model: ProfileModel, parts: Mapping[str, RefPart], item: RefItem, threshold: float,
           lexical_vector: Mapping[int, float] | None = None) -> tuple[bool, float, float]:
    """Whether the item goes to the profile, with its fused z and score (-inf, 0 when removed)."""
    def cos(keys: Sequence[str]) -> list[float]:
        return [float(np.dot(np.asarray(parts[k].vector, np.float64), np.asarray(item.dense, np.float64)))
                for k in keys]

    removed = (False, float("-inf"), 0.0)
    if model.content_types and item.evidence_type not in model.content_types:
        return removed
    if model.sources and item.source_id not in model.sources:
        return removed
    if any(e and all(t in item.terms for t in e) for e in model.word_exclusions):
        return removed
    interests, examples = cos(model.parts.get(INTEREST, [])), cos(model.parts.get(EXAMPLE, []))
    if any(c >= DISLIKED_NEAR_COPY for c in cos(model.parts.get(DISLIKED, []))):
        return removed
    exclusion = max(cos(model.parts.get(EXCLUSION, [])), default=-1.0)
    positive = max([*interests, *examples, -1.0])
    if exclusion >= EXCLUSION_MIN and exclusion >= positive:
        return removed
    tags = [t.score for t in item.tags if t.topic_id in model.topics]
    if not model.has_text:
        score = max(tags, default=0.0)
        return score >= threshold, (score if tags else float("-inf")), score
    vector = profile_lexical(model, parts) if lexical_vector is None else lexical_vector
    components = {
        "interest": max(interests) if interests else None,
        "example": example_score(examples) if examples else None,
        "lexical": sum(w * item.lexical.get(t, 0.0) for t, w in vector.items()),
        "contrast": float(np.dot(np.asarray(model.contrast, np.float64), np.asarray(item.dense, np.float64)))
        if model.contrast is not None else None,
        "design": design_score(model.design, item.design) if model.design else None,
    }
    z = fuse(components, model.calibration, lexical.BRIEF in item.design)
    if tags:
        z += TOPIC_BONUS * max(tags)
    if item.evidence_type in model.asked_types:
        z += ASKED_BONUS
    if lexical.TRANSLATED in item.design and not model.translated_ok:
        z -= TRANSLATED_PENALTY
    score = calibrated_score(z, model.calibration.cut)
    return score >= threshold, z, score
