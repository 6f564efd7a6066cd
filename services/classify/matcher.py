"""Matching items against the profile index: candidates from Qdrant, scores, reasons, decision.

Per batch of items the matcher asks the index for the nearest profile points by meaning
(interest, example and exclusion points, dense) and by words (profile points, sparse), both
under the items' payload filters (active profiles that accept this evidence type and source),
plus the profiles whose chosen topics the item's tags include. Hits are grouped per subscriber
and scored with scoring.py. When a result list is full, a subscriber's points missing from it
scored below its last hit: that last score stands in for them (a bound, never an overestimate
by more than the list's own spread).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from contracts import MatchReason, TopicTag
from services.classify.index import Hit, ItemFilter, ProfileIndex
from services.classify.lexical import Sparse
from services.classify.profiles import point_id
from services.classify.scoring import Calibration, calibrated_score, design_score, fuse

log = logging.getLogger(__name__)

#: A meaning-matched exclusion removes an item at this cosine or above (if above the positives).
EXCLUSION_MIN = 0.5
#: Added to the fused z, times the tag score, when an item carries one of the profile's topics.
TOPIC_BONUS = 2.0


@dataclass(frozen=True)
class ItemQuery:
    """One item as the matcher needs it."""

    dense: np.ndarray
    sparse: Sparse
    terms: frozenset[str]
    filter: ItemFilter
    tags: Sequence[TopicTag] = ()
    design: frozenset[str] = frozenset()  # lexical.design_features of its text


@dataclass(frozen=True)
class Match:
    subscriber_id: str
    organisation_id: str
    score: float
    z: float
    reasons: list[MatchReason]
    components: dict[str, float | None] = field(default_factory=dict)
    urgent_alerts: bool = True


def excluded_by_terms(exclude_terms: Sequence[Sequence[str]], item_terms: frozenset[str]) -> bool:
    return any(entry and all(t in item_terms for t in entry) for entry in exclude_terms)


def score_subscriber(
    meta: dict, dense_hits: Sequence[Hit], lexical: float | None, item: ItemQuery, dense_floor: float,
    min_score: float | None = None,
) -> Match | None:
    """Score one subscriber from its hits; None when an exclusion removes the item, or when
    the score falls below `min_score` (reasons are only built for what is kept)."""
    if meta.get("exclude_terms") and excluded_by_terms(meta["exclude_terms"], item.terms):
        return None
    by_kind: dict[str, dict[int, float]] = defaultdict(dict)
    for h in dense_hits:
        by_kind[h.payload.get("kind", "")][int(h.payload.get("n", 0))] = h.score
    n_int, n_ex = int(meta.get("n_interests", 0)), int(meta.get("n_examples", 0))
    interest = example = best_ex_score = None
    best_int = best_ex = -1
    if n_int:
        got = by_kind["interest"]
        scores = [got.get(i, dense_floor) for i in range(n_int)]
        best_int = max(range(n_int), key=scores.__getitem__)
        interest = scores[best_int]
    if n_ex:
        got = by_kind["example"]
        scores = [got.get(i, dense_floor) for i in range(n_ex)]
        best_ex = max(range(n_ex), key=scores.__getitem__)
        example, best_ex_score = sum(scores) / n_ex, scores[best_ex]
    contrast = None
    if meta.get("n_contrast"):
        contrast = by_kind["contrast"].get(0, dense_floor)
    positive = max(v for v in (interest, best_ex_score, -1.0) if v is not None)
    if any(s >= EXCLUSION_MIN and s >= positive for s in by_kind["exclusion"].values()):
        return None
    has_text = bool(n_int or n_ex)
    design = design_score(meta["design"], item.design) if meta.get("design") else None
    components = {"interest": interest, "example": example, "lexical": lexical if has_text else None,
                  "contrast": contrast, "design": design}
    calibration = meta.get("_calibration")
    if calibration is None:
        calibration = meta["_calibration"] = Calibration.from_payload(meta.get("calibration"))
    wanted = meta.get("topics")
    topic_tags = [t for t in item.tags if t.topic_id in wanted] if wanted else []
    if has_text:
        z = fuse(components, calibration)
        if topic_tags:
            z += TOPIC_BONUS * max(t.score for t in topic_tags)
        score = calibrated_score(z, calibration.cut)
    else:  # a topics-only profile: the tag score is the match score
        score = max((t.score for t in topic_tags), default=0.0)
        z = score if topic_tags else float("-inf")
    if min_score is not None and score < min_score:
        return None
    reasons: list[tuple[float, MatchReason]] = []
    if interest is not None:
        reasons.append((calibration.z("interest", interest),
                        MatchReason(kind="interest", text=meta["interests"][best_int], score=round(interest, 4))))
    if example is not None:
        reasons.append((calibration.z("example", example),
                        MatchReason(kind="example", text=meta["examples"][best_ex], score=round(best_ex_score, 4))))
    for t in topic_tags:
        reasons.append((TOPIC_BONUS * t.score, MatchReason(kind="topic", text=t.label, score=round(t.score, 4))))
    reasons.sort(key=lambda r: -r[0])
    return Match(
        subscriber_id=meta["subscriber_id"],
        organisation_id=meta.get("organisation_id", ""),
        score=round(score, 6),
        z=z,
        reasons=[r for _, r in reasons],
        components=components,
        urgent_alerts=bool(meta.get("urgent_alerts", 1)),
    )


class Matcher:
    """Scores items against every candidate profile in the index; `match` applies the threshold."""

    def __init__(self, index: ProfileIndex, threshold: float = 0.5, candidates: int = 64) -> None:
        self.index = index
        self.threshold = threshold
        self.candidates = candidates
        self._meta: dict[str, dict] = {}

    def forget(self, subscriber_ids: Sequence[str]) -> None:
        """Drop cached profile metadata (after a profile changed)."""
        for s in subscriber_ids:
            self._meta.pop(s, None)

    def _metas(self, subscriber_ids: set[str]) -> dict[str, dict]:
        missing = [s for s in subscriber_ids if s not in self._meta]
        if missing:
            for h in self.index.retrieve([point_id(s, "profile") for s in missing]):
                self._meta[h.payload["subscriber_id"]] = h.payload
        return {s: self._meta[s] for s in subscriber_ids if s in self._meta}

    def score(self, items: Sequence[ItemQuery], min_score: float | None = None) -> list[list[Match]]:
        """Every candidate subscriber's match for each item (at or above `min_score` if given),
        best first, exclusions removed."""
        if not items:
            return []
        filters = [it.filter for it in items]
        dense, sparse = self.index.search(np.stack([it.dense for it in items]), [it.sparse for it in items],
                                          filters, self.candidates)
        out = []
        for item, dhits, shits in zip(items, dense, sparse):
            topic_hits = self.index.by_topics([t.topic_id for t in item.tags], item.filter, self.candidates)
            dense_floor = dhits[-1].score if len(dhits) >= self.candidates else -1.0
            lex_floor = shits[-1].score if len(shits) >= self.candidates else 0.0
            grouped: dict[str, list[Hit]] = defaultdict(list)
            for h in dhits:
                grouped[h.payload["subscriber_id"]].append(h)
            lex = {h.payload["subscriber_id"]: h.score for h in shits}
            for h in topic_hits:
                self._meta.setdefault(h.payload["subscriber_id"], h.payload)
            metas = self._metas(set(grouped) | set(lex) | {h.payload["subscriber_id"] for h in topic_hits})
            matches = []
            for sub, meta in metas.items():
                if meta.get("deleted") or not meta.get("active", 1):
                    continue
                m = score_subscriber(meta, grouped.get(sub, []), lex.get(sub, lex_floor), item, dense_floor, min_score)
                if m is not None:
                    matches.append(m)
            matches.sort(key=lambda m: -m.z)
            out.append(matches)
        return out

    def match(self, items: Sequence[ItemQuery]) -> list[list[Match]]:
        """The matches at or above the threshold, for each item."""
        return self.score(items, min_score=self.threshold)
