"""The notify service's database: events applied idempotently, matched items, the delivery log.

SQLModel over SQLite by default, PostgreSQL by URL. Events are applied a batch per transaction
together with their event ids, so a redelivered event changes nothing (see apply.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import and_, event, inspect, or_, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine, select

from contracts import EvidenceType, Item, MatchReason, Profile, TopicTag
from services.notify.apply import NotifyEvent, apply_batch, recheck
from services.notify.digest import Candidate
from services.notify.ownership import default_partition
from services.notify.tables import (
    DeliveryRow, FeedbackRow, ItemRow, MatchRow, ProcessedEvent, ScheduleRow, SubscriberRow, UnroutedRow, as_utc,
    aware,
)

log = logging.getLogger(__name__)

__all__ = ["NotifyEvent", "NotifyStore", "as_utc", "aware", "candidate", "make_engine"]


def make_engine(database_url: str):  # type: ignore[no-untyped-def]
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        # Write-ahead logging: one fsync per commit instead of several, and the links API reads
        # while the app writes. synchronous stays FULL: a commit (an intent) is on disk when it returns.
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA journal_mode=WAL"))
        return engine
    if url.drivername in ("postgresql", "postgres"):
        database_url = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(database_url, pool_pre_ping=True)


def add_missing_columns(engine, tables) -> None:  # type: ignore[no-untyped-def]
    """Add the nullable columns a table gained since this database was created (create_all
    makes missing tables only); a column that cannot be added that way is an error."""
    inspector = inspect(engine)
    for table in tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} is missing and cannot be added without a default")
            kind = column.type.compile(engine.dialect)
            try:
                with engine.begin() as conn:
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
            except (OperationalError, ProgrammingError):  # another process added it first
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise
            log.warning("column added to an older database", extra={"table": table.name, "column": column.name})


def add_missing_indexes(engine, tables) -> None:  # type: ignore[no-untyped-def]
    """Create the indexes a table gained since this database was created (create_all makes
    the indexes of new tables only)."""
    for table in tables:
        for index in table.indexes:
            try:
                index.create(engine, checkfirst=True)
            except (OperationalError, ProgrammingError):  # another process created it first
                if index.name not in {i["name"] for i in inspect(engine).get_indexes(table.name)}:
                    raise


class NotifyStore:
    """All of notify's state behind one object; each method is one transaction."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        tables = [t.__table__ for t in _TABLES]  # type: ignore[attr-defined]
        try:
            SQLModel.metadata.create_all(self.engine, tables=tables)
        except (OperationalError, ProgrammingError):
            # Two processes of notify (the app and the links API) starting together can both see
            # a table missing and race to create it; the loser finds it made and goes on.
            SQLModel.metadata.create_all(self.engine, tables=tables)
        add_missing_columns(self.engine, tables)
        add_missing_indexes(self.engine, tables)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # --- events ---------------------------------------------------------------------------

    def apply(self, event: NotifyEvent) -> bool:
        """Apply one event; False if its event id was applied before."""
        return self.apply_batch([event]) == 1

    def apply_batch(
        self, events: Sequence[NotifyEvent], partition_of: Callable[[str], int] = default_partition,
        now: datetime | None = None,
    ) -> int:
        """Apply a batch in one transaction; how many of its events were new.

        A batch that loses a race with another consumer (a unique violation the database did not
        make it wait for, or a deadlock between two instances' batches on PostgreSQL) is applied
        again: the second time the ids the other applied are found taken.
        """
        now = now or datetime.now(timezone.utc)
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                with self.session() as s:
                    applied = apply_batch(s, events, partition_of, now)
                    s.commit()
                with self.session() as s:
                    recheck(s, events)
                    s.commit()
                return applied
            except (IntegrityError, OperationalError) as exc:
                if attempt == attempts or not _lost_a_race(exc):
                    raise
                log.info("batch raced another consumer, applying again", extra={"events": len(events), "error": repr(exc.orig)})
        raise AssertionError("unreachable")

    # --- reading state --------------------------------------------------------------------

    def profile(self, subscriber_id: str) -> tuple[str, Profile] | None:
        with self.session() as s:
            row = s.get(SubscriberRow, subscriber_id)
        if row is None or row.deleted or row.profile is None:
            return None
        return row.organisation_id, Profile.model_validate(row.profile)

    def pending(self, subscriber_id: str | None = None) -> dict[str, list[Candidate]]:
        """Matched items not yet taken by any delivery whose classification has arrived, per subscriber
        (for inspection and tests: the scheduler reads them a page of subscribers at a time, due.py)."""
        query = select(MatchRow, ItemRow).join(ItemRow, ItemRow.item_id == MatchRow.item_id).where(MatchRow.delivery == None)  # noqa: E711
        if subscriber_id is not None:
            query = query.where(MatchRow.subscriber_id == subscriber_id)
        with self.session() as s:
            rows = s.exec(query).all()
        out: dict[str, list[Candidate]] = {}
        for match, item in rows:
            out.setdefault(match.subscriber_id, []).append(candidate(match, item))
        return out

    def item(self, item_id: str) -> Item | None:
        with self.session() as s:
            row = s.get(ItemRow, item_id)
        return Item.model_validate(row.item) if row else None

    def org_matches(self, organisation_id: str, start: datetime, end: datetime) -> list[tuple[MatchRow, ItemRow, SubscriberRow]]:
        """The organisation's matches whose items are dated in [start, end) (see ItemRow.dated_at),
        with the subscriber matched: those of its subscribers as subscriptions published them (a
        match for a subscriber notify has no profile of, or of another organisation, counts in no
        briefing)."""
        query = (
            select(MatchRow, ItemRow, SubscriberRow).join(ItemRow, ItemRow.item_id == MatchRow.item_id)
            .join(SubscriberRow, SubscriberRow.subscriber_id == MatchRow.subscriber_id)
            .where(MatchRow.organisation_id == organisation_id, SubscriberRow.organisation_id == organisation_id)
            .where(_dated_between(start, end))
        )
        with self.session() as s:
            return list(s.exec(query).all())

    def items_between(self, start: datetime, end: datetime) -> list[ItemRow]:
        """Items dated in [start, end): published then, or first seen then where undated."""
        with self.session() as s:
            return list(s.exec(select(ItemRow).where(_dated_between(start, end))).all())


def _dated_between(start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    start, end = as_utc(start), as_utc(end)
    return or_(
        and_(ItemRow.dated_at != None, ItemRow.dated_at >= start, ItemRow.dated_at < end),  # noqa: E711
        and_(ItemRow.dated_at == None, ItemRow.classified_at >= start, ItemRow.classified_at < end),  # noqa: E711
    )


def _lost_a_race(exc: IntegrityError | OperationalError) -> bool:
    """A unique violation, a deadlock or a serialisation failure: worth applying again."""
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


def candidate(match: MatchRow, item: ItemRow) -> Candidate:
    return Candidate(
        item=Item.model_validate(item.item),
        score=match.score,
        evidence_type=EvidenceType(item.evidence_type),
        urgent=match.urgent or item.urgent,
        matched_at=aware(match.matched_at),
        reasons=tuple(MatchReason.model_validate(r) for r in match.reasons),
        tags=tuple(TopicTag.model_validate(t) for t in item.tags),
    )


_TABLES = (ProcessedEvent, SubscriberRow, ScheduleRow, ItemRow, MatchRow, DeliveryRow, FeedbackRow, UnroutedRow)
