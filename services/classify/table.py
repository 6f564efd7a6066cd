"""The matching table: every profile model in memory as arrays, and who holds each one.

Parts (parts.py) and models (segment.py) are shared by every subscriber whose profile has
them; models no one holds are dropped, and segments merged as they accumulate. Rebuilt from the
index at start (profile_sync.load_table) and kept current by profile_sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

from services.classify.parts import PartStore
from services.classify.profiles import ProfileModel, Subscriber
from services.classify.segment import Evaluation, ItemBlock, Segment

log = logging.getLogger(__name__)

#: Segments kept before the small ones are merged; the share of dead rows that merges them all.
MAX_SEGMENTS = 8
DEAD_SHARE = 0.25
#: Items scored together against the whole table (memory: 5 x models x this many floats).
ITEM_CHUNK = 8


class ProfileTable:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.parts = PartStore(dim)
        self.segments: list[Segment] = []
        self._where: dict[str, tuple[int, int]] = {}  # model key -> (segment, row)
        self.members: dict[str, set[str]] = {}  # model key -> subscriber ids
        self.subscribers: dict[str, Subscriber] = {}
        self._dropped_parts: list[str] = []
        self._holders: dict[str, list[Subscriber]] = {}
        self.compactions = 0

    # --- contents ---------------------------------------------------------------------------

    def model_count(self) -> int:
        return len(self._where)

    def has_model(self, key: str) -> bool:
        return key in self._where

    def add_models(self, models: Sequence[ProfileModel]) -> None:
        """Compile models not held yet into a new segment (their parts must be in self.parts)."""
        new = list({m.key: m for m in models if m.key not in self._where}.values())
        if not new:
            return
        segment = Segment.compile(new, self.parts)
        self.segments.append(segment)
        for row, m in enumerate(new):
            self._where[m.key] = (len(self.segments) - 1, row)
            self.members.setdefault(m.key, set())
        np.add.at(self.parts.refs.data, segment.part_rows(np.ones(len(segment), bool)), 1)
        self._maybe_merge()

    def assign(self, subscriber: Subscriber) -> list[str]:
        """Record a subscriber (its model must be held, unless a tombstone); returns the keys of
        models no subscriber holds any more, now dropped."""
        old = self.subscribers.get(subscriber.subscriber_id)
        old_model = old.model if old is not None else ""
        self.subscribers[subscriber.subscriber_id] = subscriber
        self._holders.pop(subscriber.model, None)
        self._holders.pop(old_model, None)
        if subscriber.model:
            self.members[subscriber.model].add(subscriber.subscriber_id)
        held = self.members.get(old_model) if old_model != subscriber.model else None  # no model: ""
        if held is None:
            return []
        held.discard(subscriber.subscriber_id)
        if held:
            return []
        self._drop(old_model)
        self._maybe_merge()
        return [old_model]

    def _drop(self, key: str) -> None:
        del self.members[key]
        seg, row = self._where.pop(key)
        segment = self.segments[seg]
        segment.live[row] = False
        only = np.zeros(len(segment), bool)
        only[row] = True
        np.add.at(self.parts.refs.data, segment.part_rows(only), -1)

    def drop_unheld(self) -> list[str]:
        """Drop the models no subscriber holds (left by a crash between writes); their keys."""
        unheld = [k for k, held in self.members.items() if not held]
        for key in unheld:
            self._drop(key)
        return unheld

    def drain_dropped_parts(self) -> list[str]:
        """Keys of the parts compaction dropped since last asked (their index points may go)."""
        out, self._dropped_parts = self._dropped_parts, []
        return out

    def _maybe_merge(self) -> None:
        rows = sum(len(s) for s in self.segments)
        dead = sum(int((~s.live).sum()) for s in self.segments)
        if rows and dead / rows > DEAD_SHARE:
            self.compact()
        elif len(self.segments) > MAX_SEGMENTS:
            # merge every segment but the largest: appends stay cheap, the big one is copied rarely
            largest = max(range(len(self.segments)), key=lambda i: len(self.segments[i]))
            small = [s for i, s in enumerate(self.segments) if i != largest]
            self.segments = [self.segments[largest], Segment.merge(small)]
            self._reindex()

    def compact(self) -> None:
        """One segment of the live models, and only the parts they use."""
        if not self.segments:
            return
        unused = [self.parts.keys[i] for i in np.flatnonzero(self.parts.refs.data <= 0)]
        part_map = self.parts.compact()
        self._dropped_parts += unused
        self.segments = [Segment.merge(self.segments, part_map)]
        self._reindex()
        self.compactions += 1
        log.info("profile table compacted", extra={"models": len(self._where), "parts": len(self.parts)})

    def _reindex(self) -> None:
        self._where = {k: (s, r) for s, seg in enumerate(self.segments) for r, k in enumerate(seg.keys)
                       if seg.live[r]}

    # --- scoring ----------------------------------------------------------------------------

    def evaluate(self, items: ItemBlock, threshold: float | None) -> Iterator[tuple[int, Evaluation]]:
        """Every model's evaluation against the items, a chunk of items at a time (with the
        chunk's first item)."""
        if not self.segments or not len(items):
            return
        lex_items = self.parts.items_matrix(items.lexical)
        for start in range(0, len(items), ITEM_CHUNK):
            chunk = items.rows(start, start + ITEM_CHUNK)
            part_cos = self.parts.cosines(chunk.dense)
            part_lex = self.parts.bm25(lex_items[:, start:start + ITEM_CHUNK])
            for seg in self.segments:
                if seg.live.any():
                    yield start, seg.evaluate(part_cos, part_lex, chunk, threshold)

    def holders(self, key: str) -> list[Subscriber]:
        """The live, active subscribers holding a model, in a stable order (kept until its
        membership changes: a popular statement is held by tens of thousands)."""
        held = self._holders.get(key)
        if held is None:
            subs = (self.subscribers[s] for s in sorted(self.members.get(key, ())))
            held = self._holders[key] = [s for s in subs if s.active and not s.deleted]
        return held

    def point_count(self) -> int:
        return len(self.parts) + len(self._where) + len(self.subscribers)
