"""The seen works in SQL: reads for dedupe (`SeenView`) and the claim that stores a decision (`claim`).

A claim is one transaction that either takes what the decision needs or fails as a whole:
- a new work inserts its own id into `alias` first (primary key: one work per id, whether the id
  is a work's own or an alias of one), then its `seenitem`, its first sighting and its event;
- a sighting inserts `(work, source)` into `sighting` (primary key) and its alias, if any;
- a revision moves the work's revision from n-1 to n only if it is still n-1 (compare-and-set).
A second, concurrent claim of the same thing hits the key and fails (`ClaimLost`); its caller
decides again and finds the first claim's work. Near-duplicate titles are not a key: a new work
with a titled bucket re-checks the bucket under a lock after taking its id (PostgreSQL: an
advisory lock per title prefix; SQLite: its one writer at a time, held from the first insert).
The event is queued in `outboxevent` in the same transaction, so a claim never exists without
the event that announces it (poller.py publishes it, the relay retries it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from contracts import ItemDiscovered
from services.ingest.dedupe import Decision, KnownWork, SeenItems, Verdict
from services.ingest.identity import title_prefix
from services.ingest.outbox import queue_event
from services.ingest.tables import Alias, SeenItem, Sighting

#: First key of ingest's PostgreSQL advisory locks on title buckets (the second is the prefix's hash).
TITLE_LOCK_SPACE = 0x1D6E57
#: PostgreSQL errors that mean "another transaction got there first": deadlock, serialization failure.
LOST_SQLSTATES = {"40P01", "40001"}


class ClaimLost(Exception):
    """A concurrent writer claimed what this decision needs; decide again."""


class SeenView:
    """The `SeenItems` port over one open session (inside a claim, it reads what the claim holds)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def known(self, item_id: str) -> KnownWork | None:
        row = self.s.get(SeenItem, item_id)
        return KnownWork(row.item_id, row.source_id, row.title_key, row.doi, row.revision) if row else None

    def alias_of(self, item_id: str) -> str | None:
        row = self.s.get(Alias, item_id)
        return row.item_id if row else None

    def title_candidates(self, prefix: str) -> list[KnownWork]:
        rows = self.s.exec(select(SeenItem).where(SeenItem.title_prefix == prefix).limit(50))
        return [KnownWork(r.item_id, r.source_id, r.title_key, r.doi, r.revision) for r in rows]

    def sighting(self, item_id: str, source_id: str) -> str | None:
        row = self.s.get(Sighting, (item_id, source_id))
        return row.content_hash if row else None


def claim(s: Session, decision: Decision, event: ItemDiscovered | None, publish_after: datetime,
          still_new: Callable[[SeenItems], bool]) -> bool:
    """Write `decision` and queue `event` as one claim; commit and True, or roll back and False."""
    try:
        if decision.verdict is Verdict.new:
            _claim_new(s, decision, still_new)
        else:
            _claim_known(s, decision)
        if event is not None:
            queue_event(s, event, publish_after)
        s.commit()
        return True
    except ClaimLost:
        s.rollback()
        return False
    except IntegrityError:
        s.rollback()
        return False
    except DBAPIError as exc:
        s.rollback()
        if getattr(exc.orig, "sqlstate", None) in LOST_SQLSTATES:
            return False
        raise


def _claim_new(s: Session, decision: Decision, still_new: Callable[[SeenItems], bool]) -> None:
    rec = decision.record
    assert rec is not None  # a new work always has its record
    s.add(Alias(alias_id=rec.item_id, item_id=rec.item_id))
    s.flush()  # the unique claim of the id; on SQLite it also takes the write lock
    prefix = title_prefix(rec.title_key)
    if prefix:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:prefix))"),
                      {"space": TITLE_LOCK_SPACE, "prefix": prefix})
        if not still_new(SeenView(s)):
            raise ClaimLost(rec.item_id)
    s.add(SeenItem(item_id=rec.item_id, source_id=rec.source_id, title_key=rec.title_key, title_prefix=prefix,
                   doi=rec.doi, content_hash=rec.content_hash, revision=rec.revision,
                   first_seen_at=rec.seen_at, last_seen_at=rec.seen_at))
    s.add(Sighting(item_id=rec.item_id, source_id=rec.source_id, content_hash=rec.content_hash))
    s.flush()


def _claim_known(s: Session, decision: Decision) -> None:
    """A sighting or a revision of a work already stored (the work's row is locked first, always)."""
    rec = decision.record
    assert rec is not None  # only decisions with a record are claimed
    change = {"last_seen_at": rec.seen_at, "doi": func.coalesce(SeenItem.doi, rec.doi)}
    query = update(SeenItem).where(SeenItem.item_id == rec.item_id)
    if decision.verdict is Verdict.revised:
        query = query.where(SeenItem.revision == rec.revision - 1)
        change |= {"revision": rec.revision, "content_hash": rec.content_hash}
    if s.execute(query.values(**change)).rowcount != 1:
        raise ClaimLost(rec.item_id)  # revised meanwhile (or gone)
    if rec.alias_id:
        owner = s.get(Alias, rec.alias_id)
        if owner is None:
            s.add(Alias(alias_id=rec.alias_id, item_id=rec.item_id))
        elif owner.item_id != rec.item_id:
            raise ClaimLost(rec.alias_id)  # the id became another work's meanwhile
    sighting = s.get(Sighting, (rec.item_id, rec.source_id))
    if decision.verdict is Verdict.revised and sighting is not None:
        sighting.content_hash = rec.content_hash
        s.add(sighting)
    elif sighting is None:
        s.add(Sighting(item_id=rec.item_id, source_id=rec.source_id, content_hash=rec.content_hash))
    else:
        raise ClaimLost(rec.item_id)  # this source's sighting was recorded meanwhile
    s.flush()
