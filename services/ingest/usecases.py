"""Ingest's use cases: data and ports in, events out. The edges (app.py, local.py, the CLI) call these.

- `ingest_feed(source, body, store, now) -> IngestOutcome`: parse one feed body, normalise its
  entries, decide against what was published; returns the `ItemDiscovered` events to publish
  and the `SeenRecord`s to store once the publish succeeded (`store.record_seen(outcome.records)`).
- `parse_items(body, source) -> ParseResult`: parse and normalise only, no dedupe (`horizon ingest parse`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts import Item, ItemDiscovered, derived_event_id
from services.ingest.dedupe import PendingSeen, SeenItems, SeenRecord, decide
from services.ingest.errors import IngestError
from services.ingest.normalise import Dropped, SourceLike, normalise_entry
from services.ingest.parser import parse_feed

PRODUCER = "ingest"


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

    events: list[ItemDiscovered] = field(default_factory=list)
    records: list[SeenRecord] = field(default_factory=list)
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


def ingest_feed(source: SourceLike, body: bytes, store: SeenItems, now: datetime, *, url: str = "",
                content_type: str = "", near_duplicate_threshold: float = 0.92) -> IngestOutcome:
    """Parse, normalise and dedupe one feed body of `source`; store nothing.

    Returns events for new items (revision 0) and revised ones (revision n > 0), and the records
    to store after publishing them. A feed that cannot be parsed returns its error and no events.
    """
    parsed = parse_items(body, source, url=url, content_type=content_type)
    if parsed.error:
        return IngestOutcome(error=parsed.error)
    pending = PendingSeen(store)
    return _decide_all(parsed, pending, now, near_duplicate_threshold)


def _decide_all(parsed: ParseResult, pending: PendingSeen, now: datetime, threshold: float) -> IngestOutcome:
    events: list[ItemDiscovered] = []
    records: list[SeenRecord] = []
    for item in parsed.items:
        decision = decide(item, pending, now, threshold)
        if decision.record:
            pending.add(decision.record)
            records.append(decision.record)
        if decision.publish:
            events.append(discovered(decision.item, decision.revision, now))
    return IngestOutcome(events=events, records=records, warning=parsed.warning, dropped=parsed.dropped,
                         entries=parsed.entries, items=len(parsed.items))
