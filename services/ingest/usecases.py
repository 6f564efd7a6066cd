"""Ingest's use cases: data and ports in, events out. The edges (app.py, local.py, the CLI) call these.

- `ingest_feed(source, body, store, now) -> IngestOutcome`: parse one feed body, normalise its
  entries, and decide and claim each against what was already claimed (`claim_item`); returns
  the `ItemDiscovered` events claimed for publishing. Each claim has queued its event in the
  store's outbox, so the caller publishes them and then calls `store.published(event_ids)`.
- `claim_item(item, store, now) -> (Decision, event or None)`: decide one item and claim that; a
  claim lost to a concurrent writer (another source, poller or process with the same work) is decided
  again against what that writer stored, so one work is published once.
- `parse_items(body, source) -> ParseResult`: parse and normalise only, no dedupe (`horizon ingest parse`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts import Item, ItemDiscovered, derived_event_id
from services.ingest.dedupe import Decision, SeenItems, WorkClaims, decide, find_by_title
from services.ingest.errors import IngestError
from services.ingest.normalise import Dropped, SourceLike, normalise_entry
from services.ingest.parser import parse_feed

log = logging.getLogger(__name__)
PRODUCER = "ingest"
#: Claims of one item before giving up; each loss means another writer stored that work meanwhile.
CLAIM_ATTEMPTS = 5


class ClaimContended(RuntimeError):
    """An item's claim was lost `CLAIM_ATTEMPTS` times in a row (the poll fails and is retried)."""


@dataclass(frozen=True)
class ParseResult:
    """Items of one feed body, entries dropped (with reasons), and the feed's error or warning."""

    items: list[Item] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    entries: int = 0
    version: str = ""
    error: IngestError | None = None
    warning: IngestError | None = None


@dataclass(frozen=True)
class IngestOutcome:
    """What ingesting one feed body came to."""

    events: list[ItemDiscovered] = field(default_factory=list)  # claimed, queued in the outbox
    sighted: int = 0  # items recorded as sightings of works already claimed
    error: IngestError | None = None
    warning: IngestError | None = None
    dropped: list[Dropped] = field(default_factory=list)
    entries: int = 0
    items: int = 0


def parse_items(body: bytes, source: SourceLike, url: str = "", content_type: str = "") -> ParseResult:
    """Parse a feed body and normalise every entry; never raises."""
    parsed = parse_feed(body, url=url, content_type=content_type)
    if parsed.error:
        return ParseResult(error=parsed.error)
    items: list[Item] = []
    dropped: list[Dropped] = []
    for entry in parsed.entries:
        result = normalise_entry(entry, parsed.feed, source)
        (dropped if isinstance(result, Dropped) else items).append(result)  # type: ignore[arg-type]
    return ParseResult(items=items, dropped=dropped, entries=len(parsed.entries), version=parsed.version,
                       warning=parsed.warning)


def discovered(item: Item, revision: int, now: datetime) -> ItemDiscovered:
    """The event for a new item or a revision; its id is derived, so a re-publish repeats it."""
    event_id = derived_event_id(PRODUCER, item.item_id, str(revision), item.content_hash)
    return ItemDiscovered(event_id=event_id, occurred_at=now, producer=PRODUCER, item=item, revision=revision)


def claim_item(item: Item, store: WorkClaims, now: datetime, threshold: float = 0.92, *,
               publish_after: datetime | None = None) -> tuple[Decision, ItemDiscovered | None]:
    """Decide what `item` is and claim that; decide again whenever a concurrent writer won the claim.

    Returns the decision claimed and, for a new or revised work, its event: queued with the claim,
    held for this caller to publish until `publish_after` (default `now`), after which the outbox
    relay may publish it instead.
    """
    def still_new(view: SeenItems) -> bool:  # asked under the claim: no near-duplicate appeared
        return find_by_title(item, view, threshold) is None

    for _ in range(CLAIM_ATTEMPTS):
        decision = decide(item, store, now, threshold)
        if decision.record is None:
            return decision, None
        event = discovered(decision.item, decision.revision, now) if decision.publish else None
        if store.claim(decision, event, publish_after=publish_after or now, still_new=still_new):
            return decision, event
        log.info("claim lost to a concurrent writer; deciding again",
                 extra={"item_id": item.item_id, "source_id": item.source_id, "verdict": decision.verdict.value})
    raise ClaimContended(f"{item.item_id} from {item.source_id}: claim lost {CLAIM_ATTEMPTS} times")


def ingest_feed(source: SourceLike, body: bytes, store: WorkClaims, now: datetime, *, url: str = "",
                content_type: str = "", near_duplicate_threshold: float = 0.92,
                hold_s: float = 0.0) -> IngestOutcome:
    """Parse, normalise, dedupe and claim each item of one feed body of `source`.

    Returns the events of new items (revision 0) and revised ones (revision n > 0) that this call
    claimed; they wait in the store's outbox, reserved for the caller for `hold_s` seconds, until
    `store.published` clears them. A feed that cannot be parsed returns its error and claims nothing.
    """
    parsed = parse_items(body, source, url=url, content_type=content_type)
    if parsed.error:
        return IngestOutcome(error=parsed.error)
    publish_after = now + timedelta(seconds=hold_s)
    events: list[ItemDiscovered] = []
    sighted = 0
    for item in parsed.items:
        decision, event = claim_item(item, store, now, near_duplicate_threshold, publish_after=publish_after)
        if event is not None:
            events.append(event)
        elif decision.record is not None:
            sighted += 1
    return IngestOutcome(events=events, sighted=sighted, warning=parsed.warning, dropped=parsed.dropped,
                         entries=parsed.entries, items=len(parsed.items))
