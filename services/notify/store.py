"""The notify service's database: events applied idempotently, matched items, the delivery log.

SQLModel over SQLite by default, PostgreSQL by URL. Every event is applied in one transaction
together with its event id, so a redelivered event changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine, select

from contracts import EvidenceType, Item, ItemClassified, ItemMatched, MatchReason, Profile, ProfileChanged, TopicTag
from services.notify.digest import Candidate
from services.notify.tables import DeliveryRow, FeedbackRow, ItemRow, MatchRow, ProcessedEvent, SubscriberRow

log = logging.getLogger(__name__)

NotifyEvent = ItemClassified | ItemMatched | ProfileChanged


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time (a naive one is taken as UTC already)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def make_engine(database_url: str):  # type: ignore[no-untyped-def]
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
    if url.drivername in ("postgresql", "postgres"):
        database_url = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(database_url, pool_pre_ping=True)


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

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # --- events ---------------------------------------------------------------------------

    def apply(self, event: NotifyEvent) -> bool:
        """Apply one event; False if its event id was applied before."""
        with self.session() as s:
            if s.get(ProcessedEvent, event.event_id) is not None:
                return False
            if isinstance(event, ItemClassified):
                _apply_classified(s, event)
            elif isinstance(event, ItemMatched):
                _apply_matched(s, event)
            else:
                _apply_profile(s, event)
            s.add(ProcessedEvent(event_id=event.event_id, processed_at=as_utc(datetime.now(timezone.utc))))
            try:
                s.commit()
            except IntegrityError:  # the same event applied concurrently by another consumer
                s.rollback()
                return False
        return True

    # --- reading state --------------------------------------------------------------------

    def profile(self, subscriber_id: str) -> tuple[str, Profile] | None:
        with self.session() as s:
            row = s.get(SubscriberRow, subscriber_id)
        if row is None or row.deleted or row.profile is None:
            return None
        return row.organisation_id, Profile.model_validate(row.profile)

    def live_profiles(self) -> dict[str, tuple[str, Profile]]:
        with self.session() as s:
            rows = s.exec(select(SubscriberRow).where(SubscriberRow.deleted == False)).all()  # noqa: E712
        return {r.subscriber_id: (r.organisation_id, Profile.model_validate(r.profile)) for r in rows if r.profile}

    def pending(self, subscriber_id: str | None = None) -> dict[str, list[Candidate]]:
        """Matched items not yet taken by any delivery whose classification has arrived, per subscriber."""
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

    def org_matches(self, organisation_id: str, start: datetime, end: datetime) -> list[tuple[MatchRow, ItemRow]]:
        """The organisation's matches whose items were classified in [start, end)."""
        query = (
            select(MatchRow, ItemRow).join(ItemRow, ItemRow.item_id == MatchRow.item_id)
            .where(MatchRow.organisation_id == organisation_id)
            .where(ItemRow.classified_at >= as_utc(start), ItemRow.classified_at < as_utc(end))
        )
        with self.session() as s:
            return list(s.exec(query).all())

    def items_between(self, start: datetime, end: datetime) -> list[ItemRow]:
        query = select(ItemRow).where(ItemRow.classified_at >= as_utc(start), ItemRow.classified_at < as_utc(end))
        with self.session() as s:
            return list(s.exec(query).all())


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


def _apply_classified(s: Session, event: ItemClassified) -> None:
    row = s.get(ItemRow, event.item.item_id)
    if row is not None and row.revision > event.revision:
        return
    row = row or ItemRow(item_id=event.item.item_id, item={}, evidence_type="", classified_at=as_utc(event.occurred_at))
    row.revision = event.revision
    row.item = event.item.model_dump(mode="json")
    row.tags = [t.model_dump(mode="json") for t in event.tags]
    row.evidence_type = str(event.evidence_type)
    row.urgent = event.urgent
    s.add(row)


def _apply_matched(s: Session, event: ItemMatched) -> None:
    sub = s.get(SubscriberRow, event.subscriber_id)
    if sub is not None and sub.deleted:
        log.info("match for a deleted subscriber dropped", extra={"subscriber_id": event.subscriber_id, "event_id": event.event_id})
        return
    row = s.get(MatchRow, (event.subscriber_id, event.item_id))
    if row is None:
        row = MatchRow(
            subscriber_id=event.subscriber_id, item_id=event.item_id, organisation_id=event.organisation_id,
            score=0.0, evidence_type="", matched_at=as_utc(event.occurred_at),
        )
    # a re-match (a revised item) refreshes why; the delivery that took it stays
    row.score = event.score
    row.reasons = [r.model_dump(mode="json") for r in event.reasons]
    row.evidence_type = str(event.evidence_type)
    row.urgent = row.urgent or event.urgent
    s.add(row)


def _apply_profile(s: Session, event: ProfileChanged) -> None:
    row = s.get(SubscriberRow, event.subscriber_id)
    if row is not None and row.version >= event.version:
        log.info("stale profile version ignored", extra={"subscriber_id": event.subscriber_id, "event_id": event.event_id})
        return
    row = row or SubscriberRow(subscriber_id=event.subscriber_id, organisation_id=event.organisation_id, version=event.version)
    row.organisation_id = event.organisation_id
    row.version = event.version
    row.deleted = event.deleted
    row.profile = event.profile.model_dump(mode="json") if event.profile else None
    s.add(row)
    if event.deleted:
        for table in (MatchRow, DeliveryRow, FeedbackRow):
            s.exec(delete(table).where(table.subscriber_id == event.subscriber_id))  # type: ignore[call-overload]


_TABLES = (ProcessedEvent, SubscriberRow, ItemRow, MatchRow, DeliveryRow, FeedbackRow)
