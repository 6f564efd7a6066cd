"""Matching items against the profile index: candidates from Qdrant, scores, reasons, decision.

Per batch of items the matcher asks the index for the nearest profile points by meaning
(interest, example and exclusion points, dense) and by words (profile points, sparse), both
under the items' payload filters (active profiles that accept this evidence type and source),
plus the profiles whose chosen topics the item's tags include. Hits are grouped per subscriber
and scored with scoring.py. When a result list is full, a subscriber's points missing from it
scored below its last hit: that last score stands in for them (a bound, never an overestimate
by more than the list's own spread). The sparse search finds candidates by the item's own words;
where the item comes with its words expanded from its nearest recent items (neighbours.py), each
candidate's lexical score is that of the expanded vector, computed exactly from the profile's
terms (carried in its profile point) in one pass over all candidates.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from contracts import MatchReason, TopicTag
from services.classify.index import Hit, ItemFilter, ProfileIndex
from services.classify.lexical import BRIEF, TRANSLATED, Sparse
from services.classify.neighbours import Terms, dots
from services.classify.profiles import point_id
from services.classify.scoring import (
    COMPONENTS, FIT_WEIGHT, TOPICAL, WEIGHTS, Calibration, calibrated_score, example_score,
)

log = logging.getLogger(__name__)

#: A meaning-matched exclusion removes an item at this cosine or above (if above the positives).
EXCLUSION_MIN = 0.5
#: An item this close to one the subscriber marked not relevant is the same work again: not sent.
DISLIKED_NEAR_COPY = 0.95
#: Added to the fused z, times the tag score, when an item carries one of the profile's topics.
TOPIC_BONUS = 2.0
#: Added to the fused z when the item is a kind of evidence the profile's statements ask for by
#: name ("systematic reviews of ...": evidence.asked_evidence_types), so that among items about
#: the subject those of the asked kind come first; a preference, where content_types is a filter.
ASKED_BONUS = 4.0
#: Taken from the fused z of an item whose title is a bracketed translation (its article is not
#: in English: lexical.TRANSLATED), unless the profile's own examples include such a paper.
#: Subscribers read English; such items still match when they are far enough above the cut.
TRANSLATED_PENALTY = 6.0


@dataclass(frozen=True)
class ItemQuery:
    """One item as the matcher needs it."""

    dense: np.ndarray
    sparse: Sparse
    terms: frozenset[str]
    filter: ItemFilter
    tags: Sequence[TopicTag] = ()
    design: frozenset[str] = frozenset()  # lexical.design_features of its text
    #: Its BM25 vector expanded from its nearest recent items (neighbours.expand_all), which
    #: the lexical component scores; None: the sparse search's score of its own words.
    expanded: Terms | None = None


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


class ProfileScorer:
    """One profile's scoring, prepared once from its profile point's payload and cached by the
    matcher: calibration as plain numbers, design weights as a base plus per-marker deltas (so
    an item costs its own markers, not the profile's), the cut as a fused-z bar per threshold."""

    def __init__(self, meta: dict) -> None:
        self.meta = meta
        self.subscriber_id = meta["subscriber_id"]
        self.live = not meta.get("deleted") and bool(meta.get("active", 1))
        self.n_int, self.n_ex = int(meta.get("n_interests", 0)), int(meta.get("n_examples", 0))
        self.has_text = bool(self.n_int or self.n_ex)
        self.has_contrast = bool(meta.get("n_contrast"))
        self.exclude_terms = meta.get("exclude_terms") or ()
        self.calibration = Calibration.from_payload(meta.get("calibration"))
        self.cut = self.calibration.cut
        self.wanted = set(meta.get("topics") or ())
        self.asked = set(meta.get("asked_types") or ())
        self.translated_ok = bool(meta.get("translated_ok", 0))
        # the profile's words, for an expanded item's exact lexical score (None: stored before)
        ids, weights = meta.get("lexical_ids"), meta.get("lexical_weights")
        self.terms = None if ids is None else Terms(np.asarray(ids, np.int64), np.asarray(weights, np.float64))
        design = meta.get("design") or {}
        self.has_design = bool(design)
        self.design_base = sum(float(w[1]) for w in design.values())
        self.design_delta = {f: float(w[0]) - float(w[1]) for f, w in design.items()}
        present = {"interest": self.n_int > 0, "example": self.n_ex > 0, "lexical": self.has_text,
                   "contrast": self.has_contrast, "design": self.has_design}
        weight = sum(WEIGHTS[k] for k in COMPONENTS if present[k])
        self._rescale = sum(WEIGHTS.values()) / weight if weight else 0.0
        # fuse() as one affine map per component (scale * value + offset), summed per part; and
        # the same for a brief item (lexical.BRIEF), with its own statistics where measured
        self._maps = self._parts({k: self._affine(k) for k in COMPONENTS if present[k]})
        self._brief_maps = self._parts({k: self._affine(k, brief=True) for k in COMPONENTS if present[k]})

    @staticmethod
    def _parts(maps: dict[str, tuple[float, float]]) -> tuple[dict, dict]:
        return ({k: v for k, v in maps.items() if k in TOPICAL}, {k: v for k, v in maps.items() if k not in TOPICAL})

    def _affine(self, component: str, brief: bool = False) -> tuple[float, float]:
        mean, std = self.calibration.stats_of(component, brief)
        scale = WEIGHTS[component] / max(std, 1e-6)
        return scale, -mean * scale

    def design(self, features: frozenset[str]) -> float | None:
        if not self.has_design:
            return None
        delta = self.design_delta
        return self.design_base + sum(delta[f] for f in features if f in delta)

    def score(self, dense_hits: Sequence[Hit], lexical: float | None, item: ItemQuery, dense_floor: float,
              min_score: float | None = None) -> Match | None:
        """This profile's match for the item, from its hits; None when an exclusion removes the
        item, or when the score falls below `min_score` (reasons are only built for what is kept)."""
        if self.exclude_terms and excluded_by_terms(self.exclude_terms, item.terms):
            return None
        interests = [dense_floor] * self.n_int
        examples = [dense_floor] * self.n_ex
        contrast = dense_floor if self.has_contrast else None
        exclusion = -1.0
        for h in dense_hits:
            kind, n = h.payload.get("kind", ""), int(h.payload.get("n", 0))
            if kind == "interest" and n < self.n_int:
                interests[n] = h.score
            elif kind == "example" and n < self.n_ex:
                examples[n] = h.score
            elif kind == "contrast" and n == 0 and contrast is not None:
                contrast = h.score
            elif kind == "exclusion":
                exclusion = max(exclusion, h.score)
            elif kind == "disliked" and h.score >= DISLIKED_NEAR_COPY:
                return None
        interest = max(interests) if interests else None
        best_ex_score = max(examples) if examples else None
        example = example_score(examples) if examples else None
        positive = max(v for v in (interest, best_ex_score, -1.0) if v is not None)
        if exclusion >= EXCLUSION_MIN and exclusion >= positive:
            return None
        components = {"interest": interest, "example": example, "lexical": lexical if self.has_text else None,
                      "contrast": contrast, "design": self.design(item.design)}
        topic_tags = [t for t in item.tags if t.topic_id in self.wanted] if self.wanted else []
        asked = item.filter.evidence_type if item.filter.evidence_type in self.asked else None
        if self.has_text:
            topical = fit = 0.0
            topical_maps, fit_maps = self._brief_maps if BRIEF in item.design else self._maps
            for k, (scale, offset) in topical_maps.items():
                topical += scale * components[k] + offset
            for k, (scale, offset) in fit_maps.items():
                fit += scale * components[k] + offset
            z = (topical + FIT_WEIGHT * self.calibration.gate_at(topical) * fit) * self._rescale
            if topic_tags:
                z += TOPIC_BONUS * max(t.score for t in topic_tags)
            if asked:
                z += ASKED_BONUS
            if TRANSLATED in item.design and not self.translated_ok:
                z -= TRANSLATED_PENALTY
            score = calibrated_score(z, self.cut)
        else:  # a topics-only profile: the tag score is the match score
            score = max((t.score for t in topic_tags), default=0.0)
            z = score if topic_tags else float("-inf")
        if min_score is not None and score < min_score:
            return None
        return self._match(components, interests, examples, topic_tags, asked, score, z)

    def _match(self, components: dict, interests: list[float], examples: list[float], topic_tags: list[TopicTag],
               asked: str | None, score: float, z: float) -> Match:
        meta, calibration = self.meta, self.calibration
        reasons: list[tuple[float, MatchReason]] = []
        if interests:
            best = max(range(len(interests)), key=interests.__getitem__)
            reasons.append((calibration.z("interest", components["interest"]),
                            MatchReason(kind="interest", text=meta["interests"][best],
                                        score=round(components["interest"], 4))))
        if examples:
            best = max(range(len(examples)), key=examples.__getitem__)
            reasons.append((calibration.z("example", components["example"]),
                            MatchReason(kind="example", text=(meta.get("example_titles") or meta["examples"])[best],
                                        score=round(examples[best], 4))))
        for t in topic_tags:
            reasons.append((TOPIC_BONUS * t.score, MatchReason(kind="topic", text=t.label, score=round(t.score, 4))))
        reasons.sort(key=lambda r: -r[0])
        if asked:  # a preference that lifted the item, never the reason it is grouped under
            reasons.append((0.0, MatchReason(kind="evidence", text=asked.replace("_", " "), score=1.0)))
        return Match(
            subscriber_id=self.subscriber_id,
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
        self._scorers: dict[str, ProfileScorer] = {}

    def forget(self, subscriber_ids: Sequence[str]) -> None:
        """Drop cached profile metadata (after a profile changed)."""
        for s in subscriber_ids:
            self._scorers.pop(s, None)

    def _cache(self, payload: dict) -> None:
        sub = payload["subscriber_id"]
        if sub not in self._scorers:
            self._scorers[sub] = ProfileScorer(payload)

    def _profiles(self, subscriber_ids: set[str]) -> list[ProfileScorer]:
        missing = [s for s in subscriber_ids if s not in self._scorers]
        if missing:
            for h in self.index.retrieve([point_id(s, "profile") for s in missing]):
                self._cache(h.payload)
        return [self._scorers[s] for s in subscriber_ids if s in self._scorers]

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
                self._cache(h.payload)
            candidates = set(grouped) | set(lex) | {h.payload["subscriber_id"] for h in topic_hits}
            profiles = [p for p in self._profiles(candidates) if p.live]
            if item.expanded is not None:  # the expanded words' exact score, for every candidate
                exact = [p for p in profiles if p.terms is not None]
                scores = dots(item.expanded, [p.terms for p in exact]).tolist()
                lex.update(zip([p.subscriber_id for p in exact], scores))
            matches = []
            for profile in profiles:
                sub = profile.subscriber_id
                m = profile.score(grouped.get(sub, ()), lex.get(sub, lex_floor), item, dense_floor, min_score)
                if m is not None:
                    matches.append(m)
            matches.sort(key=lambda m: -m.z)
            out.append(matches)
        return out

    def match(self, items: Sequence[ItemQuery]) -> list[list[Match]]:
        """The matches at or above the threshold, for each item."""
        return self.score(items, min_score=self.threshold)
