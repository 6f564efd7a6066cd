"""The outbox of ingest in SQL: each claimed `ItemDiscovered`, kept until the broker has taken it.

A claim queues its event in the same transaction (`queue_event`), held for the claimer until
`publish_after`. The claimer publishes at once and deletes the row (`published`), or, when the
publish fails, releases it (`release`). The relay takes what is due (`take_due`): events whose
claimer crashed, or whose publish failed. A take moves `publish_after` on by the hold, with a
compare-and-set on `attempts`, so that two ingest processes never take the same row at once.
Publishing stays at-least-once: a publish that succeeded but was not yet deleted is repeated,
under the same event id, which consumers drop.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, select

from contracts import ItemDiscovered
from services.ingest.tables import OutboxEvent


def queue_event(s: Session, event: ItemDiscovered, publish_after: datetime) -> None:
    """Add `event` to the outbox inside the caller's transaction (a claim)."""
    s.add(OutboxEvent(event_id=event.event_id, item_id=event.item.item_id, source_id=event.item.source_id,
                      revision=event.revision, payload=event.model_dump_json(), claimed_at=event.occurred_at,
                      publish_after=publish_after))
    s.flush()


def take_due(s: Session, now: datetime, hold_until: datetime, limit: int) -> list[ItemDiscovered]:
    """Take up to `limit` due events, oldest claim first, holding them until `hold_until`; commits."""
    query = (select(OutboxEvent).where(OutboxEvent.publish_after <= now)
             .order_by(OutboxEvent.claimed_at, OutboxEvent.event_id).limit(limit))
    taken: list[ItemDiscovered] = []
    for row in s.exec(query).all():
        took = s.execute(update(OutboxEvent)
                         .where(OutboxEvent.event_id == row.event_id, OutboxEvent.attempts == row.attempts)
                         .values(publish_after=hold_until, attempts=row.attempts + 1)
                         .execution_options(synchronize_session=False))
        if took.rowcount == 1:
            taken.append(ItemDiscovered.model_validate_json(row.payload))
    s.commit()
    return taken


def published(s: Session, event_ids: Iterable[str]) -> None:
    """Forget events the broker has taken; commits."""
    ids = list(event_ids)
    if ids:
        s.execute(delete(OutboxEvent).where(OutboxEvent.event_id.in_(ids)))
        s.commit()


def release(s: Session, event_ids: Iterable[str], now: datetime) -> None:
    """Make events whose publish failed due now, for the next relay; commits."""
    ids = list(event_ids)
    if ids:
        s.execute(update(OutboxEvent).where(OutboxEvent.event_id.in_(ids)).values(publish_after=now)
                  .execution_options(synchronize_session=False))
        s.commit()


def pending(s: Session) -> int:
    """How many claimed events wait to be published."""
    return len(s.exec(select(OutboxEvent.event_id)).all())
