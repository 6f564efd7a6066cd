"""Whether an item is new, a revision, or a work already published. Pure, over the `SeenItems` port.

Rules: one work has one canonical id. An item whose id (or an alias of it) is known is the same
work; so is an item from another source whose normalised title nearly equals a known one's,
unless both carry different DOIs. A source that shows a known work with changed content has
revised it: it is published again with the next revision number. A known work seen in a second
source is recorded (a sighting) and not published again.

A decision is only a proposal until the store accepts it: `WorkClaims.claim` writes it as one
unique claim (see seen.py), which fails when a concurrent writer decided the same work first;
the caller then decides again against what that writer stored (usecases.claim_item).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from contracts import Item, ItemDiscovered
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
    """What a decision stores; its claim writes it together with the event to publish (the outbox)."""

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
    return find_by_title(item, seen, threshold)


def find_by_title(item: Item, seen: SeenItems, threshold: float) -> KnownWork | None:
    """The known work from another source whose title nearly equals this item's (DOIs not in conflict)."""
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


class WorkClaims(SeenItems, Protocol):
    """The port a decision is claimed through: the SQL store, or a fake in tests."""

    def claim(self, decision: Decision, event: ItemDiscovered | None, *, publish_after: datetime,
              still_new: Callable[[SeenItems], bool]) -> bool:
        """Store `decision` (and queue `event` in the outbox) as one unique claim.

        False when a concurrent writer got there first (the work, alias, sighting or revision is
        taken, or `still_new` — asked under the claim — says a near-duplicate has appeared since).
        """
        ...
