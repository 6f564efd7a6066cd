"""A block of profile models as arrays, and how every one of them scores against items at once.

The table (table.py) keeps its models in segments: each batch of new models is compiled into
one, and segments are merged as they accumulate. A segment holds, per model, which parts it has
in each role (fusion.Entries), its calibration as affine maps, its design weights, its filters
(content types, sources), what it asks for (topics, kinds of evidence) and what it excludes.
`evaluate` gives every model's fused z, score and decision for a batch of items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from contracts import EvidenceType, TopicTag
from services.classify import fusion, lexical
from services.classify.fusion import COMPONENTS, DESIGN, EXAMPLE, INTEREST, LEXICAL, Calibration, Entries, Maps, calibrated, fused
from services.classify.parts import (
    DISLIKED, EXAMPLE as EXAMPLE_ROLE, EXCLUSION, INTEREST as INTEREST_ROLE, PartStore, lexical_coefficients,
)
from services.classify.profiles import ProfileModel

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
TRANSLATED_PENALTY = 6.0

EVIDENCE_BIT = {str(e): 1 << n for n, e in enumerate(EvidenceType)}
ALL_EVIDENCE = (1 << len(EVIDENCE_BIT)) - 1
FEATURES = lexical.DESIGN_FEATURES
FEATURE_INDEX = {f: n for n, f in enumerate(FEATURES)}


def markers(designs: Sequence[frozenset[str]]) -> np.ndarray:
    """Each item's design markers as a row of 0/1 over FEATURES (markers no longer known: left out)."""
    out = np.zeros((len(designs), len(FEATURES)))
    for i, d in enumerate(designs):
        out[i, [FEATURE_INDEX[f] for f in d if f in FEATURE_INDEX]] = 1.0
    return out


def bits(kinds: Sequence[str]) -> int:
    return sum(EVIDENCE_BIT.get(k, 0) for k in set(kinds))


@dataclass(frozen=True)
class Items:
    """Items as every model's components need them (the calibration background is these alone)."""

    dense: np.ndarray  # (k, dim) unit vectors
    lexical: Sequence[lexical.Sparse]  # each item's BM25 vector, expanded from its neighbours
    design: Sequence[frozenset[str]]  # lexical.design_features, TRANSLATED among them

    def __len__(self) -> int:
        return len(self.dense)

    @cached_property
    def markers(self) -> np.ndarray:
        """markers(design), made once however many segments score the items."""
        return markers(self.design)


@dataclass(frozen=True)
class ItemBlock(Items):
    """Items to match: also what the filters, bonuses, exclusions and reasons read."""

    evidence_type: Sequence[str]
    source_id: Sequence[str]
    tags: Sequence[Sequence[TopicTag]]
    terms: Sequence[frozenset[str]]

    def translated(self) -> np.ndarray:
        return np.array([lexical.TRANSLATED in d for d in self.design], dtype=bool)

    def rows(self, start: int, stop: int) -> "ItemBlock":
        return ItemBlock(*(getattr(self, f.name)[start:stop] for f in fields(self)))


@dataclass
class Evaluation:
    """A segment against a batch of items: every model's fused z and score, and the decision; the
    parts' cosines to the items (the matcher's reasons name the closest part)."""

    segment: Segment
    part_cos: np.ndarray  # (parts, k)
    comps: np.ndarray  # (components, n, k)
    z: np.ndarray
    score: np.ndarray
    accepted: np.ndarray  # bool (n, k)


@dataclass
class Segment:
    keys: list[str]
    live: np.ndarray
    has_text: np.ndarray
    entries: dict[str, Entries]  # role -> entries; "lexical" for the lexical coefficients
    maps: Maps
    design_row: np.ndarray  # each model's row in `design`, -1 for none
    design: np.ndarray  # (D, 1 + features): a design score's base, then each marker's increment
    evidence: np.ndarray  # int64 bit masks of the content types accepted
    asked: np.ndarray  # int64 bit masks of the kinds asked for by name
    translated_ok: np.ndarray
    any_source: np.ndarray
    sources: dict[str, np.ndarray] = field(default_factory=dict)
    topics: dict[str, np.ndarray] = field(default_factory=dict)
    topic_lists: list[tuple[str, ...]] = field(default_factory=list)
    word_exclusions: dict[int, list[list[str]]] = field(default_factory=dict)
    _excluding: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def compile(cls, models: Sequence[ProfileModel], parts: PartStore) -> "Segment":
        n = len(models)
        roles: dict[str, tuple[list[int], list[int]]] = {r: ([], []) for r in (INTEREST_ROLE, EXAMPLE_ROLE, EXCLUSION, DISLIKED)}
        lex_owner, lex_part, lex_weight = [], [], []
        design_row, design = np.full(n, -1, np.int64), []
        sources: dict[str, list[int]] = defaultdict(list)
        topics: dict[str, list[int]] = defaultdict(list)
        words: dict[int, list[list[str]]] = {}
        for i, m in enumerate(models):
            for role, (owner, rows) in roles.items():
                keys = m.parts.get(role, [])
                owner.extend([i] * len(keys))
                rows.extend(parts.rows(keys))
            statements = parts.rows(m.parts.get(INTEREST_ROLE, []))
            examples = parts.rows(m.parts.get(EXAMPLE_ROLE, []))
            s_coef, e_coef = lexical_coefficients(parts.lengths.data[statements].tolist(), len(examples))
            lex_owner += [i] * (len(statements) + len(examples))
            lex_part += statements + examples
            lex_weight += s_coef + e_coef
            if m.design:  # absent everywhere, plus (present - absent) for each marker found
                design_row[i] = len(design)
                row = np.zeros(1 + len(FEATURES))
                row[0] = sum(w[1] for w in m.design.values())
                for f, w in m.design.items():
                    if f in FEATURE_INDEX:
                        row[1 + FEATURE_INDEX[f]] = w[0] - w[1]
                design.append(row)
            for s in m.sources:
                sources[s].append(i)
            for t in m.topics:
                topics[t].append(i)
            if m.word_exclusions:
                words[i] = m.word_exclusions
        entries = {role: Entries.build(n, owner, rows) for role, (owner, rows) in roles.items()}
        entries["lexical"] = Entries.build(n, lex_owner, lex_part, lex_weight)
        seg = cls(
            keys=[m.key for m in models], live=np.ones(n, bool), has_text=np.array([m.has_text for m in models], bool),
            entries=entries, maps=Maps.of([m.calibration for m in models], np.zeros((n, len(COMPONENTS)), bool)),
            design_row=design_row, design=np.asarray(design, np.float64).reshape(len(design), 1 + len(FEATURES)),
            evidence=np.array([bits(m.content_types) if m.content_types else ALL_EVIDENCE for m in models], np.int64),
            asked=np.array([bits(m.asked_types) for m in models], np.int64),
            translated_ok=np.array([m.translated_ok for m in models], bool),
            any_source=np.array([not m.sources for m in models], bool),
            sources={s: np.asarray(r, np.int64) for s, r in sources.items()},
            topics={t: np.asarray(r, np.int64) for t, r in topics.items()},
            topic_lists=[tuple(m.topics) for m in models], word_exclusions=words,
        )
        seg.calibrate([m.calibration for m in models])
        return seg

    def part_rows(self, rows: np.ndarray) -> np.ndarray:
        """The part rows the models in `rows` (a boolean mask) use, once per use (lexical
        entries repeat the statements and examples, so they are not counted)."""
        return np.concatenate([e.part[rows[e.owner]] for role, e in self.entries.items() if role != "lexical"])

    def present(self) -> np.ndarray:
        """Which components each model has: (n, components)."""
        out = np.zeros((len(self), len(COMPONENTS)), bool)
        out[:, INTEREST] = self.entries[INTEREST_ROLE].counts > 0
        out[:, EXAMPLE] = self.entries[EXAMPLE_ROLE].counts > 0
        out[:, LEXICAL] = self.has_text
        out[:, DESIGN] = self.design_row >= 0
        return out

    def calibrate(self, calibrations: Sequence[Calibration]) -> None:
        self.maps = Maps.of(calibrations, self.present())

    def components(self, part_cos: np.ndarray, part_lex: np.ndarray,
                   markers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The components (COMPONENTS order) of every model against each item, 0 where a model
        lacks one; and the closest example's plain cosine."""
        n, k = len(self), part_cos.shape[1]
        comps = np.zeros((len(COMPONENTS), n, k))
        comps[INTEREST] = fusion.interest(self.entries[INTEREST_ROLE], part_cos)
        comps[EXAMPLE], top = fusion.example(self.entries[EXAMPLE_ROLE], part_cos)
        comps[LEXICAL] = fusion.lexical(self.entries["lexical"], part_lex)
        has = self.design_row >= 0
        if has.any():
            table = self.design[self.design_row[has]]
            comps[DESIGN][has] = table[:, :1] + table[:, 1:] @ markers.T
        comps[~np.isfinite(comps)] = 0.0  # a missing component: left out by its present flag
        return comps, top

    def evaluate(self, part_cos: np.ndarray, part_lex: np.ndarray, items: ItemBlock, threshold: float | None) -> Evaluation:
        """Every model's z, score and decision (score at or above `threshold`, filters passed,
        nothing excluding the item) for each item."""
        comps, top = self.components(part_cos, part_lex, items.markers)
        z = fused(self.maps, comps)
        tag = self._tag_scores(items)
        has_tag = np.isfinite(tag)
        tag_or_0 = np.where(has_tag, tag, 0.0)
        z += TOPIC_BONUS * tag_or_0
        kind = np.array([EVIDENCE_BIT.get(e, 0) for e in items.evidence_type], np.int64)
        asking = np.flatnonzero(self.asked)  # few models ask for a kind, few items are translated
        for j in np.flatnonzero(kind):
            z[asking[(self.asked[asking] & kind[j]) != 0], j] += ASKED_BONUS
        for j in np.flatnonzero(items.translated()):
            z[~self.translated_ok, j] -= TRANSLATED_PENALTY
        score = calibrated(z, self.maps.cut)
        if not self.has_text.all():  # a topics-only model: the tag's own score
            blank = ~self.has_text
            score[blank] = tag_or_0[blank]
            z[blank] = np.where(has_tag[blank], tag[blank], -np.inf)
        accepted = self.live[:, None] & self._allowed(items, kind) & ~self._removed(part_cos, comps, top)
        if threshold is not None:
            accepted &= score >= threshold
        self._apply_word_exclusions(accepted, items)
        return Evaluation(self, part_cos, comps, z, score, accepted)

    def _tag_scores(self, items: ItemBlock) -> np.ndarray:
        """The best score of a tag the model chose, per model and item (-inf: none)."""
        out = np.full((len(self), len(items)), -np.inf)
        for j, tags in enumerate(items.tags):
            for t in tags:
                rows = self.topics.get(t.topic_id)
                if rows is not None:
                    out[rows, j] = np.maximum(out[rows, j], t.score)
        return out

    def _allowed(self, items: ItemBlock, kind: np.ndarray) -> np.ndarray:
        ok = np.ones((len(self), len(items)), bool)
        limited = np.flatnonzero(self.evidence != ALL_EVIDENCE)
        ok[limited] = (self.evidence[limited, None] & kind[None, :]) != 0
        source = np.repeat(self.any_source[:, None], len(items), axis=1)
        for j, s in enumerate(items.source_id):
            rows = self.sources.get(s)
            if rows is not None:
                source[rows, j] = True
        return ok & source

    def _removed(self, part_cos: np.ndarray, comps: np.ndarray, top: np.ndarray) -> np.ndarray:
        """Items an exclusion by meaning or a not-relevant near-copy takes away (only the models
        with exclusions or not-relevant items are looked at: most have neither)."""
        out = np.zeros(comps.shape[1:], bool)
        disliked, exclusion = self.entries[DISLIKED], self.entries[EXCLUSION]
        if len(disliked.part):
            rows = np.flatnonzero(disliked.counts)
            out[rows] = np.maximum.reduceat(part_cos[disliked.part], disliked.starts[rows], axis=0) >= DISLIKED_NEAR_COPY
        if len(exclusion.part):
            rows = np.flatnonzero(exclusion.counts)
            worst = np.maximum.reduceat(part_cos[exclusion.part], exclusion.starts[rows], axis=0)
            has_int = (self.entries[INTEREST_ROLE].counts[rows] > 0)[:, None]
            has_ex = (self.entries[EXAMPLE_ROLE].counts[rows] > 0)[:, None]
            positive = np.maximum(np.where(has_int, comps[INTEREST][rows], -1.0), np.where(has_ex, top[rows], -1.0))
            out[rows] |= (worst >= EXCLUSION_MIN) & (worst >= positive)
        return out

    def _apply_word_exclusions(self, accepted: np.ndarray, items: ItemBlock) -> None:
        if not self.word_exclusions:
            return
        if self._excluding is None:
            self._excluding = np.fromiter(self.word_exclusions, np.int64, len(self.word_exclusions))
        rows, cols = np.nonzero(accepted[self._excluding])  # only the cells still accepted
        for r, j in zip(self._excluding[rows], cols):
            if any(e and all(t in items.terms[j] for t in e) for e in self.word_exclusions[int(r)]):
                accepted[r, j] = False

    @classmethod
    def merge(cls, segments: Sequence["Segment"], part_map: np.ndarray | None = None) -> "Segment":
        """The live models of several segments as one (part rows mapped through `part_map`)."""
        pieces = [(seg, seg.live, np.cumsum(seg.live) - 1) for seg in segments]  # kept rows, their new numbers
        offsets = np.cumsum([0] + [int(k.sum()) for _, k, _ in pieces])
        entries = {}
        for role in segments[0].entries:
            taken = [seg.entries[role].take(keep, renumber, part_map) for seg, keep, renumber in pieces]
            entries[role] = Entries.build(
                int(offsets[-1]), np.concatenate([e.owner + o for e, o in zip(taken, offsets)]),
                np.concatenate([e.part for e in taken]), np.concatenate([e.weight for e in taken]))

        def rows(name: str) -> np.ndarray:
            return np.concatenate([getattr(seg, name)[keep] for seg, keep, _ in pieces])

        # the kept models' design rows, in model order (a model's new row: how many have one before it)
        design = np.concatenate([seg.design[seg.design_row[keep & (seg.design_row >= 0)]] for seg, keep, _ in pieces])
        has_design = rows("design_row") >= 0

        def grouped(name: str) -> dict[str, np.ndarray]:
            out: dict[str, list[np.ndarray]] = defaultdict(list)
            for (seg, keep, renumber), offset in zip(pieces, offsets):
                for key, r in getattr(seg, name).items():
                    r = r[keep[r]]
                    if len(r):
                        out[key].append(renumber[r] + offset)
            return {key: np.concatenate(v) for key, v in out.items()}

        words = {int(renumber[row] + offset): w for (seg, keep, renumber), offset in zip(pieces, offsets)
                 for row, w in seg.word_exclusions.items() if keep[row]}
        maps = Maps(*(np.concatenate([getattr(seg.maps, f.name)[keep] for seg, keep, _ in pieces]) for f in fields(Maps)))
        return cls(
            keys=[k for seg, keep, _ in pieces for k, alive in zip(seg.keys, keep) if alive],
            live=rows("live"), has_text=rows("has_text"), entries=entries, maps=maps,
            design_row=np.where(has_design, np.cumsum(has_design) - 1, -1), design=design,
            evidence=rows("evidence"), asked=rows("asked"),
            translated_ok=rows("translated_ok"), any_source=rows("any_source"),
            sources=grouped("sources"), topics=grouped("topics"),
            topic_lists=[t for seg, keep, _ in pieces for t, alive in zip(seg.topic_lists, keep) if alive],
            word_exclusions=words,
        )
