"""Keeping the profile index current from ProfileChanged events, idempotently.

An event applies only if its version is above the stored one; a tombstone removes the
profile's points but keeps its version, so a late, older event cannot resurrect it. Each
live profile is calibrated against background items (recent items, or a sample of them):
the mean and spread of each score component, stored with the profile. The background also
gives the profile its neighbourhood (the items it scores highest), against which its contrast
vector and its design-marker weights are learnt from its examples.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from contracts import ProfileChanged
from services.classify import lexical
from services.classify.index import ProfileIndex
from services.classify.profiles import EmbedFn, ProfileModel, build_model, point_id, to_points, tombstone_point
from services.classify.neighbours import Terms, as_terms, dots
from services.classify.scoring import Calibration, calibrate, design_score, design_weights, example_score, fuse

#: Share of the background that is a profile's neighbourhood, and the weight of its centroid.
NEIGHBOURHOOD = 0.05
CONTRAST_GAMMA = 0.8
#: Background items this close to an example are copies of it, not neighbours.
NEAR_COPY = 0.98
MIN_BACKGROUND = 50
#: Share of the background (and its bounds) whose design markers the examples' are compared with.
DESIGN_NEIGHBOURHOOD = 0.2
DESIGN_NEIGHBOURS = (50, 400)

Background = tuple  # (dense (n, dim), sparse vectors, design-marker sets or None)

log = logging.getLogger(__name__)


def components_over(model: ProfileModel, dense: np.ndarray, sparse: Sequence[lexical.Sparse | Terms],
                    design: Sequence[frozenset[str]] | None = None) -> dict[str, np.ndarray]:
    """Each score component of many items against one profile (for calibration); `sparse`: the
    items' expanded BM25 vectors (neighbours.py), as dicts or as Terms."""
    out: dict[str, np.ndarray] = {}
    if len(dense) == 0:
        return out
    if len(model.interest_vectors):
        out["interest"] = (dense @ model.interest_vectors.T).max(axis=1)
    if len(model.example_vectors):
        out["example"] = example_score(dense @ model.example_vectors.T)
    if model.lexical:
        out["lexical"] = dots(Terms.of(model.lexical), as_terms(sparse))
    if model.contrast_vector is not None:
        out["contrast"] = dense @ model.contrast_vector
    if model.design and design is not None:
        out["design"] = np.array([design_score(model.design, d) for d in design])
    return out


def _brief_of(design: Sequence[frozenset[str]] | None, n: int) -> np.ndarray:
    """Which background items are brief (lexical.BRIEF); none where their markers are unknown."""
    return np.zeros(n, bool) if design is None else np.array([lexical.BRIEF in d for d in design], bool)


def _fused(columns: dict[str, np.ndarray], calibration: Calibration, brief: np.ndarray) -> np.ndarray:
    return np.array([fuse({k: float(v[i]) for k, v in columns.items()}, calibration, bool(b))
                     for i, b in enumerate(brief)])


def contrast_vector(model: ProfileModel, dense: np.ndarray, sparse: Sequence[lexical.Sparse | Terms],
                    calibration: Calibration, brief: np.ndarray) -> np.ndarray | None:
    """What sets the examples apart from the profile's neighbourhood (Rocchio's negative term).

    The neighbourhood is the background items the profile scores highest, bar near-copies of
    the examples: the items a searcher would wade through. Their centroid, weighted by
    CONTRAST_GAMMA, is taken from the examples' centroid; the result points at what the
    examples have that their topical neighbours lack (design, population, outcome...).
    """
    if not len(model.example_vectors) or len(dense) < MIN_BACKGROUND:
        return None
    fused = _fused(components_over(model, dense, sparse), calibration, brief)
    near_copy = (dense @ model.example_vectors.T).max(axis=1) > NEAR_COPY
    fused[near_copy] = -np.inf
    k = int(np.clip(NEIGHBOURHOOD * len(dense), 10, 100))
    neighbours = np.argsort(-fused)[:k]
    v = model.example_vectors.mean(axis=0) - CONTRAST_GAMMA * dense[neighbours].mean(axis=0)
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else None


def profile_design(model: ProfileModel, dense: np.ndarray, sparse: Sequence[lexical.Sparse | Terms],
                   design: Sequence[frozenset[str]], calibration: Calibration, brief: np.ndarray) -> dict | None:
    """Design-marker weights: the examples' markers against those of the profile's
    neighbourhood (the background items it scores highest on every other component)."""
    if not model.example_design or len(dense) < MIN_BACKGROUND:
        return None
    fused = _fused(components_over(model, dense, sparse), calibration, brief)
    k = int(np.clip(DESIGN_NEIGHBOURHOOD * len(dense), *DESIGN_NEIGHBOURS))
    neighbours = [design[i] for i in np.argsort(-fused)[:k]]
    return design_weights(model.example_design, neighbours, lexical.DESIGN_FEATURES) or None


def calibrated_model(model: ProfileModel, dense: np.ndarray, sparse: Sequence[lexical.Sparse | Terms],
                     design: Sequence[frozenset[str]] | None = None) -> ProfileModel:
    """The model with its contrast vector, design weights and every component's background
    statistics (a brief item's own, where the background's design markers say which are brief)."""
    brief = _brief_of(design, len(dense))
    sparse = as_terms(sparse)  # once, for the four passes over the background below
    base = calibrate(components_over(model, dense, sparse), brief=brief)
    contrast = contrast_vector(model, dense, sparse, base, brief)
    model = replace(model, contrast_vector=contrast, calibration=base)
    if design is not None:
        with_contrast = calibrate(components_over(model, dense, sparse), brief=brief)
        model = replace(model, design=profile_design(model, dense, sparse, design, with_contrast, brief))
    return replace(model, calibration=calibrate(components_over(model, dense, sparse, design), brief=brief))


def latest_per_subscriber(events: Sequence[ProfileChanged]) -> list[ProfileChanged]:
    """The newest event of each subscriber in a batch (older ones in it are already superseded)."""
    latest: dict[str, ProfileChanged] = {}
    for e in events:
        if e.subscriber_id not in latest or e.version > latest[e.subscriber_id].version:
            latest[e.subscriber_id] = e
    return list(latest.values())


def apply_profile_events(
    index: ProfileIndex,
    events: Sequence[ProfileChanged],
    embed: EmbedFn,
    stats: lexical.TermStats,
    background: Background | None = None,
    disliked: Callable[[ProfileChanged], tuple[list[str], np.ndarray]] | None = None,
    again: bool = False,
) -> list[str]:
    """Apply what is new; return the subscriber ids whose profile changed in the index.

    `background`: recent items as (dense vectors, expanded sparse vectors (neighbours.within)[,
    design-marker sets]);
    `disliked`: the ids and vectors of the items a profile's subscriber marked not relevant;
    `again`: apply the stored version once more (an example paper it awaited has arrived).
    """
    events = latest_per_subscriber(events)
    stored = {
        h.payload.get("subscriber_id"): int(h.payload.get("version", -1))
        for h in index.retrieve([point_id(e.subscriber_id, "profile") for e in events])
    }
    changed = []
    for e in events:
        current = stored.get(e.subscriber_id, -1)
        if e.version < current or (e.version == current and not again):
            log.info("stale profile event ignored", extra={"subscriber_id": e.subscriber_id, "event_id": e.event_id,
                                                           "version": e.version})
            continue
        index.delete_subscriber(e.subscriber_id)
        if e.deleted or e.profile is None:
            index.upsert([tombstone_point(e)])
        else:
            model = build_model(e, embed, stats, disliked=disliked(e) if disliked else None)
            if background is not None and len(background[0]):
                design = background[2] if len(background) > 2 else None
                model = calibrated_model(model, background[0], background[1], design)
            index.upsert(to_points(model))
        changed.append(e.subscriber_id)
        log.info("profile applied", extra={"subscriber_id": e.subscriber_id, "version": e.version,
                                           "deleted": e.deleted})
    return changed

