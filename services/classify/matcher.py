"""Matching items against every profile: decisions from the table, reasons, fan-out.

The table scores each item against every model, exhaustively (no candidates, no top-k), so whether
an item reaches a subscriber depends only on their profile and the item. For each model that
accepts an item the reasons are built once and the match is fanned out to its subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from contracts import MatchReason
from services.classify.fusion import EXAMPLE, INTEREST, Entries
from services.classify.parts import EXAMPLE as EXAMPLE_ROLE, INTEREST as INTEREST_ROLE
from services.classify.segment import EVIDENCE_BIT, TOPIC_BONUS, Evaluation, ItemBlock
from services.classify.profiles import Subscriber
from services.classify.table import ProfileTable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    """One model's match for an item, and every active subscriber who holds that model."""

    score: float
    z: float
    reasons: list[MatchReason]
    holders: Sequence[Subscriber]

    @property
    def subscriber_ids(self) -> list[str]:
        return [s.subscriber_id for s in self.holders]


class Matcher:
    """Scores items against every model in the table; `match` applies the threshold."""

    def __init__(self, table: ProfileTable, threshold: float = 0.5) -> None:
        self.table = table
        self.threshold = threshold

    def match(self, items: ItemBlock) -> list[list[Match]]:
        """For each item, the models it matches, best first, each with the subscribers it goes to
        (a model held by tens of thousands is one Match: its reasons are built once)."""
        out: list[list[Match]] = [[] for _ in range(len(items))]
        for start, ev in self.table.evaluate(items, self.threshold):
            rows, cols = np.nonzero(ev.accepted)
            reasons = self._reasons(ev, start, rows, cols, items)
            scores, zs = np.round(ev.score[rows, cols], 6).tolist(), ev.z[rows, cols].tolist()
            for n, (row, j) in enumerate(zip(rows.tolist(), cols.tolist())):
                holders = self.table.holders(ev.segment.keys[row])
                if holders:
                    out[start + j].append(Match(scores[n], zs[n], reasons[n], holders))
        for matches in out:
            matches.sort(key=lambda m: (-m.z, m.holders[0].subscriber_id))
        return out

    def _reasons(self, ev: Evaluation, start: int, rows: np.ndarray, cols: np.ndarray,
                 items: ItemBlock) -> list[list[MatchReason]]:
        """Why each accepted (model, item) cell matched, strongest first: the closest statement
        and the example it is most like (each ranked by its component's z), the chosen topics
        the item carries; then the asked-for kind of evidence, a preference that lifted it."""
        seg, labels = ev.segment, self.table.parts.labels
        made: dict[tuple, MatchReason] = {}  # models sharing a statement share its reason for an item

        def reason(kind: str, text: str, score: float) -> MatchReason:
            r = made.get((kind, text, score))
            if r is None:
                r = made[kind, text, score] = MatchReason.model_construct(kind=kind, text=text, score=score)
            return r

        ranked: list[list[tuple[float, MatchReason]]] = [[] for _ in range(len(rows))]
        for role, c in ((INTEREST_ROLE, INTEREST), (EXAMPLE_ROLE, EXAMPLE)):
            cells, part, cos = _closest(seg.entries[role], ev.part_cos, rows, cols)
            z = seg.maps.scale[rows[cells], c] * ev.comps[c, rows[cells], cols[cells]] + seg.maps.offset[rows[cells], c]
            for n, p, k, zz in zip(cells.tolist(), part.tolist(), np.round(cos, 4).tolist(), z.tolist()):
                ranked[n].append((zz, reason(role, labels[p], k)))
        bits_of = [EVIDENCE_BIT.get(k, 0) for k in items.evidence_type]
        out = []
        for n, (row, j) in enumerate(zip(rows.tolist(), cols.tolist())):
            wanted, item = seg.topic_lists[row], start + j
            if wanted:
                ranked[n] += [(TOPIC_BONUS * t.score, reason("topic", t.label, round(t.score, 4)))
                              for t in items.tags[item] if t.topic_id in wanted]
            ranked[n].sort(key=lambda r: -r[0])
            reasons = [r for _, r in ranked[n]]
            if seg.has_text[row] and seg.asked[row] & bits_of[item]:
                kind = items.evidence_type[item]
                reasons.append(reason("evidence", kind.replace("_", " "), 1.0))
            out.append(reasons)
        return out


def _closest(entries: Entries, part_cos: np.ndarray, rows: np.ndarray, cols: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each (model row, item column) cell whose model has parts in this role: the cell's
    index, its closest part (the first of equals) and that part's cosine, all cells at once."""
    counts = entries.counts[rows]
    cells = np.flatnonzero(counts)
    if not len(cells):
        return cells, cells, np.zeros(0)
    n = counts[cells]
    ends = np.cumsum(n)
    owner = np.repeat(np.arange(len(cells)), n)
    entry = np.repeat(entries.starts[rows[cells]], n) + np.arange(int(ends[-1])) - np.repeat(ends - n, n)
    part = entries.part[entry]
    cos = part_cos[part, cols[cells][owner]]
    best = np.lexsort((np.arange(len(cos)), -cos, owner))[ends - n]
    return cells, part[best], cos[best]
