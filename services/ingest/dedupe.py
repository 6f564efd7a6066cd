"""Whether an item is new, a revision, or a work already published. Pure, over a `SeenItems` port.

Rules: one work has one canonical id. An item whose id (or an alias of it) is known is the same
work; so is an item from another source whose normalised title nearly equals a known one's,
unless both carry different DOIs. A source that shows a known work with changed content has
revised it: it is published again with the next revision number. A known work seen in a second
source is recorded (a sighting) and not published again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from contracts import Item
from services.ingest.identity import title_key, title_prefix, title_similarity


@dataclass(frozen=True)
class KnownWork:
    """What the store remembers of a published work."""

    item_id: str
    source_id: str
    title_key: str
    doi: str | None
    revision: int


class SeenItems(Protocol):
    """The port dedupe reads: the store, or a fake in tests."""

    def known(self, item_id: str) -> KnownWork | None: ...
    def alias_of(self, item_id: str) -> str | None: ...
    def title_candidates(self, prefix: str) -> list[KnownWork]: ...
    def sighting(self, item_id: str, source_id: str) -> str | None: ...


class Verdict(StrEnum):
    new = "new"  # publish, revision 0
    revised = "revised"  # publish, revision n > 0
    unchanged = "unchanged"  # nothing to do
    sighted = "sighted"  # a known work in another source: record, do not publish


@dataclass(frozen=True)
class SeenRecord:
    """What to store once the decision is carried out (after the publish, when there is one)."""

    item_id: str
    source_id: str
    title_key: str
    doi: str | None
    content_hash: str
    revision: int
    seen_at: datetime
    alias_id: str | None = None  # the item's own id when it differs from the canonical one


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    item: Item  # carrying the canonical item id
    revision: int
    record: SeenRecord | None

    @property
    def publish(self) -> bool:
        return self.verdict in (Verdict.new, Verdict.revised)


def find_known(item: Item, seen: SeenItems, threshold: float) -> KnownWork | None:
    """The published work this item is, by id, alias, or a near-identical title from another source."""
    found = seen.known(item.item_id)
    if found:
        return found
    canonical = seen.alias_of(item.item_id)
    if canonical:
        return seen.known(canonical)
    key = title_key(item.title)
    prefix = title_prefix(key)
    if not prefix:
        return None
    best: tuple[float, KnownWork] | None = None
    for cand in seen.title_candidates(prefix):
        if cand.source_id == item.source_id or (cand.doi and item.doi and cand.doi != item.doi):
            continue
        score = 1.0 if cand.title_key == key else title_similarity(cand.title_key, key)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, cand)
    return best[1] if best else None


def decide(item: Item, seen: SeenItems, now: datetime, threshold: float = 0.92) -> Decision:
    """Classify one normalised item against what was already published."""
    key = title_key(item.title)
    known = find_known(item, seen, threshold)
    if known is None:
        record = SeenRecord(item.item_id, item.source_id, key, item.doi, item.content_hash, 0, now)
        return Decision(Verdict.new, item, 0, record)
    canonical = item if known.item_id == item.item_id else item.model_copy(update={"item_id": known.item_id})
    alias = item.item_id if known.item_id != item.item_id else None
    previous = seen.sighting(known.item_id, item.source_id)
    if previous is None:
        record = SeenRecord(known.item_id, item.source_id, known.title_key, known.doi or item.doi,
                            item.content_hash, known.revision, now, alias)
        if known.source_id == item.source_id:
            # First sighting by the publishing source itself is the publish record; never happens
            # after a clean record, but a store written by an older version may lack sightings.
            return Decision(Verdict.unchanged, canonical, known.revision, record)
        return Decision(Verdict.sighted, canonical, known.revision, record)
    if previous == item.content_hash:
        return Decision(Verdict.unchanged, canonical, known.revision, None)
    revision = known.revision + 1
    record = SeenRecord(known.item_id, item.source_id, key, known.doi or item.doi, item.content_hash,
                        revision, now, alias)
    return Decision(Verdict.revised, canonical, revision, record)


class PendingSeen:
    """A `SeenItems` view that also holds records decided but not yet stored.

    Within one feed (or one local run) an entry repeated, or the same work in two files, must be
    seen as known before anything is written: records are written only after their publish.
    """

    def __init__(self, seen: SeenItems) -> None:
        self._seen = seen
        self._works: dict[str, KnownWork] = {}
        self._aliases: dict[str, str] = {}
        self._sightings: dict[tuple[str, str], str] = {}

    def add(self, record: SeenRecord) -> None:
        base = self.known(record.item_id)
        first_source = base.source_id if base else record.source_id
        self._works[record.item_id] = KnownWork(
            record.item_id, first_source, record.title_key, record.doi, record.revision)
        if record.alias_id:
            self._aliases[record.alias_id] = record.item_id
        self._sightings[(record.item_id, record.source_id)] = record.content_hash

    def known(self, item_id: str) -> KnownWork | None:
        return self._works.get(item_id) or self._seen.known(item_id)

    def alias_of(self, item_id: str) -> str | None:
        return self._aliases.get(item_id) or self._seen.alias_of(item_id)

    def title_candidates(self, prefix: str) -> list[KnownWork]:
        pending = [w for w in self._works.values() if w.title_key.startswith(prefix)]
        return pending + [w for w in self._seen.title_candidates(prefix) if w.item_id not in self._works]

    def sighting(self, item_id: str, source_id: str) -> str | None:
        return self._sightings.get((item_id, source_id)) or self._seen.sighting(item_id, source_id)
