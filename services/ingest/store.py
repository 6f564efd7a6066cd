"""The SQL store of ingest: sources (with health and validators), seen works and the outbox.

`SqlStore("sqlite:///var/ingest.db")`, `SqlStore("sqlite://")` (in memory, tests and demo) or a
PostgreSQL URL; several processes may share one PostgreSQL (or SQLite file) database. Tables are
created on first use. Implements the `WorkClaims` port of dedupe: the claim itself is in seen.py,
the outbox of claimed events in outbox.py.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

from sqlalchemy import event as sql_event
from sqlalchemy import func, or_
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from contracts import ItemDiscovered
from services.ingest import outbox, seen
from services.ingest.dedupe import Decision, KnownWork, SeenItems
from services.ingest.tables import (Alias, OutboxEvent, SeenItem, Sighting, Source, SourceCreate, SourceUpdate,
                                    as_utc)

log = logging.getLogger(__name__)


def source_id_for(url: str) -> str:
    """A stable id for a source created without one: a short hash of its first URL."""
    return "src-" + hashlib.sha256(url.strip().encode()).hexdigest()[:12]


class SqlStore:
    """Sources and seen items in one SQL database."""

    def __init__(self, url: str) -> None:
        kwargs: dict = {}
        self._one_at_a_time: threading.RLock | nullcontext = nullcontext()
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool  # one shared in-memory database
                self._one_at_a_time = threading.RLock()  # ... on one connection: one transaction at a time
            else:
                Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite") and "poolclass" not in kwargs:
            sql_event.listen(self.engine, "connect", _sqlite_wal)
        SQLModel.metadata.create_all(self.engine, tables=[t.__table__ for t in
                                                          (Source, SeenItem, Sighting, Alias, OutboxEvent)])

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._one_at_a_time, Session(self.engine) as s:
            yield s

    # ---- sources -------------------------------------------------------------------------
    def add_source(self, new: SourceCreate) -> Source:
        """Store a new source; an existing id is an error the caller sees as ValueError."""
        data = new.model_dump(exclude={"id"})
        source = Source(id=new.id or source_id_for(new.url), **data)
        with self._session() as s:
            if s.get(Source, source.id) is not None:
                raise ValueError(f"a source with id {source.id!r} already exists")
            s.add(source)
            s.commit()
            s.refresh(source)
            return _aware(source)

    def get_source(self, source_id: str) -> Source | None:
        with self._session() as s:
            found = s.get(Source, source_id)
            return _aware(found) if found else None

    def find_by_url(self, url: str) -> Source | None:
        with self._session() as s:
            found = s.exec(select(Source).where(Source.url == url)).first()
            return _aware(found) if found else None

    def list_sources(self) -> list[Source]:
        with self._session() as s:
            return [_aware(x) for x in s.exec(select(Source).order_by(Source.title, Source.id))]

    def update_source(self, source_id: str, change: SourceUpdate) -> Source | None:
        with self._session() as s:
            found = s.get(Source, source_id)
            if found is None:
                return None
            for name, value in change.model_dump(exclude_unset=True).items():
                setattr(found, name, value)
            s.add(found)
            s.commit()
            s.refresh(found)
            return _aware(found)

    def remove_source(self, source_id: str) -> bool:
        with self._session() as s:
            found = s.get(Source, source_id)
            if found is None:
                return False
            s.delete(found)
            s.commit()
            return True

    def save_source(self, source: Source) -> None:
        """Write back a source whose health or validators changed."""
        with self._session() as s:
            s.merge(source)
            s.commit()

    def due_sources(self, now: datetime) -> list[Source]:
        """Enabled sources whose next attempt is now or past (or never scheduled)."""
        with self._session() as s:
            query = select(Source).where(Source.enabled == True).where(  # noqa: E712 (SQL)
                or_(Source.next_attempt_at == None, Source.next_attempt_at <= now))  # noqa: E711
            return [_aware(x) for x in s.exec(query.order_by(Source.next_attempt_at))]

    # ---- seen works (the WorkClaims port) -------------------------------------------------
    def known(self, item_id: str) -> KnownWork | None:
        with self._session() as s:
            return seen.SeenView(s).known(item_id)

    def alias_of(self, item_id: str) -> str | None:
        with self._session() as s:
            return seen.SeenView(s).alias_of(item_id)

    def title_candidates(self, prefix: str) -> list[KnownWork]:
        with self._session() as s:
            return seen.SeenView(s).title_candidates(prefix)

    def sighting(self, item_id: str, source_id: str) -> str | None:
        with self._session() as s:
            return seen.SeenView(s).sighting(item_id, source_id)

    def claim(self, decision: Decision, event: ItemDiscovered | None, *, publish_after: datetime,
              still_new: Callable[[SeenItems], bool]) -> bool:
        """Store a decision and queue its event as one unique claim; False if a concurrent writer won."""
        with self._session() as s:
            return seen.claim(s, decision, event, publish_after, still_new)

    # ---- the outbox of claimed events ------------------------------------------------------
    def take_due(self, now: datetime, hold_until: datetime, limit: int = 500) -> list[ItemDiscovered]:
        """Claimed events due for the relay (crashed or failed publishes), held until `hold_until`."""
        with self._session() as s:
            return outbox.take_due(s, now, hold_until, limit)

    def published(self, event_ids: Iterable[str]) -> None:
        """Forget claimed events the broker has taken."""
        with self._session() as s:
            outbox.published(s, event_ids)

    def release(self, event_ids: Iterable[str], now: datetime) -> None:
        """Hand claimed events whose publish failed to the next relay."""
        with self._session() as s:
            outbox.release(s, event_ids, now)

    def pending_events(self) -> int:
        with self._session() as s:
            return outbox.pending(s)

    def recent_counts(self, since: datetime) -> dict[str, int]:
        """Works first seen from each source since `since`."""
        with self._session() as s:
            rows = s.exec(select(SeenItem.source_id, func.count()).where(SeenItem.first_seen_at >= since)
                          .group_by(SeenItem.source_id)).all()
            return {source_id: n for source_id, n in rows}

    def recent_item_ids(self, source_id: str, since: datetime, limit: int = 2000) -> list[str]:
        """Ids of the works first seen from a source since `since`, newest first."""
        with self._session() as s:
            return list(s.exec(select(SeenItem.item_id).where(SeenItem.source_id == source_id,
                                                              SeenItem.first_seen_at >= since)
                               .order_by(SeenItem.first_seen_at.desc()).limit(limit)).all())  # type: ignore[union-attr]

    def count_seen(self) -> int:
        with self._session() as s:
            return len(s.exec(select(SeenItem.item_id)).all())


def _sqlite_wal(dbapi_connection, _record) -> None:
    """Readers and the one writer of a SQLite file do not block each other (several pollers claim at once)."""
    dbapi_connection.execute("PRAGMA journal_mode=WAL")


def _aware(source: Source) -> Source:
    for name in ("last_attempt_at", "last_success_at", "last_error_at", "next_attempt_at", "created_at"):
        setattr(source, name, as_utc(getattr(source, name)))
    return source
