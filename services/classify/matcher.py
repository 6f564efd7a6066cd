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
from services.classify.fusion import EXAMPLE, INTEREST
from services.classify.parts import EXAMPLE as EXAMPLE_ROLE, INTEREST as INTEREST_ROLE
from services.classify.segment import EVIDENCE_BIT, TOPIC_BONUS, ItemBlock, Segment
from services.classify.profiles import Subscriber
from services.classify.table import ProfileTable, Scored

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
        for scored in self.table.evaluate(items, self.threshold):
            ev = scored.evaluation
            for row, j in zip(*np.nonzero(ev.accepted)):
                holders = self.table.holders(scored.segment.keys[row])
                if not holders:
                    continue
                item = scored.start + int(j)
                reasons = self._reasons(scored, int(row), int(j), items, item)
                out[item].append(Match(round(float(ev.score[row, j]), 6), float(ev.z[row, j]), reasons, holders))
        for matches in out:
            matches.sort(key=lambda m: (-m.z, m.holders[0].subscriber_id))
        return out

    def scores(self, items: ItemBlock) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every model's fused z and calibrated score for each item (filters and exclusions
        applied: -inf and 0 where one removes it), by model key (benchmarks, previews)."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for scored in self.table.evaluate(items, None):
            seg, ev = scored.segment, scored.evaluation
            stop = scored.start + ev.z.shape[1]
            for row in np.flatnonzero(seg.live):
                z, score = out.setdefault(seg.keys[row], (np.full(len(items), -np.inf), np.zeros(len(items))))
                keep = ev.accepted[row]
                z[scored.start:stop] = np.where(keep, ev.z[row], -np.inf)
                score[scored.start:stop] = np.where(keep, ev.score[row], 0.0)
        return out

    def _reasons(self, scored: Scored, row: int, j: int, items: ItemBlock, item: int) -> list[MatchReason]:
        seg, ev, labels = scored.segment, scored.evaluation, self.table.parts.labels
        maps = seg.maps
        ranked: list[tuple[float, MatchReason]] = []
        for role, c in ((INTEREST_ROLE, INTEREST), (EXAMPLE_ROLE, EXAMPLE)):
            parts = _parts_of(seg, role, row)
            if len(parts):
                cos = scored.part_cos[parts, j]
                best = int(np.argmax(cos))
                z = maps.scale[row, c] * ev.comps[c, row, j] + maps.offset[row, c]
                ranked.append((float(z), MatchReason(kind=role, text=labels[parts[best]], score=round(float(cos[best]), 4))))
        wanted = seg.topic_lists[row]
        for t in items.tags[item]:
            if t.topic_id in wanted:
                ranked.append((TOPIC_BONUS * t.score, MatchReason(kind="topic", text=t.label, score=round(t.score, 4))))
        ranked.sort(key=lambda r: -r[0])
        reasons = [r for _, r in ranked]
        kind = items.evidence_type[item]
        if seg.has_text[row] and seg.asked[row] & EVIDENCE_BIT.get(kind, 0):
            # a preference that lifted the item, never the reason it is grouped under
            reasons.append(MatchReason(kind="evidence", text=kind.replace("_", " "), score=1.0))
        return reasons


def _parts_of(seg: Segment, role: str, row: int) -> np.ndarray:
    e = seg.entries[role]
    return e.part[e.starts[row]:e.starts[row] + e.counts[row]]
