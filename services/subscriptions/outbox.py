"""The transactional outbox: events written with the change, published later by a relay.

`record` adds the event to the caller's session, so it commits (or rolls back) with the
change itself. `relay_once` publishes pending rows in order and marks each sent only after
the broker acknowledged it; a crash in between republishes it (consumers are idempotent on
the event id and ignore older profile versions).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlmodel import Session, func, select

from contracts import Event, ProfileChanged
from contracts.topics import EVENT_TYPES, PROFILES
from services.subscriptions import metrics
from services.subscriptions.models import OutboxRow, now
from services.subscriptions.store import SessionFactory

log = logging.getLogger(__name__)

Publish = Callable[[Event, str], Awaitable[None]]


def record(session: Session, event: ProfileChanged) -> None:
    """Queue a ProfileChanged in the caller's transaction (key: subscriber id)."""
    session.add(
        OutboxRow(
            event_id=event.event_id,
            topic=PROFILES,
            key=event.subscriber_id,
            payload=event.model_dump_json(),
        )
    )


def record_event(session: Session, event: Event, key: str) -> None:
    """Queue any contract event (its topic from contracts.topics) in the caller's transaction."""
    [topic] = [t for t, kind in EVENT_TYPES.items() if kind is type(event)]
    session.add(OutboxRow(event_id=event.event_id, topic=topic, key=key, payload=event.model_dump_json()))


def pending(session: Session, limit: int = 100) -> list[tuple[int, ProfileChanged]]:
    """Unpublished profile events, oldest first (the profiles' own relay order)."""
    return [(i, e) for i, e, _ in pending_events(session, limit) if isinstance(e, ProfileChanged)]


def pending_events(session: Session, limit: int = 100) -> list[tuple[int, Event, str]]:
    """Unpublished events of every topic, oldest first, with their keys."""
    rows = session.exec(
        select(OutboxRow).where(OutboxRow.published_at.is_(None)).order_by(OutboxRow.id).limit(limit)
    ).all()
    return [(row.id, EVENT_TYPES.get(row.topic, ProfileChanged).model_validate_json(row.payload), row.key) for row in rows]


def mark_published(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    stamp = now()
    for row in session.exec(select(OutboxRow).where(OutboxRow.id.in_(ids))).all():
        row.published_at = stamp
        session.add(row)
    session.commit()


async def relay_once(session_factory: SessionFactory, publish: Publish, limit: int = 100) -> int:
    """Publish up to `limit` pending events; returns how many were published and marked.

    Stops at the first failure so that a subscriber's events never overtake each other. The
    database is used from a worker thread: a locked or slow database must not stall the event
    loop, which also runs the engagement consumers' heartbeats and the /health endpoint.
    """
    with session_factory() as session:
        batch = await asyncio.to_thread(pending_events, session, limit)
        done: list[int] = []
        try:
            for row_id, event, key in batch:
                await publish(event, key)
                done.append(row_id)
        finally:
            await asyncio.to_thread(_finish, session, len(batch), done, limit)
    if done:
        log.info("outbox relayed", extra={"published": len(done), "pending_seen": len(batch)})
    return len(done)


def _finish(session: Session, seen: int, done: list[int], limit: int) -> None:
    mark_published(session, done)
    _observe(session, seen, len(done), limit)


def _observe(session: Session, seen: int, published: int, limit: int) -> None:
    """Count what was published and what is left; a short page was the whole outbox, so only
    after a full one does it take a count (the relay runs every second while idle)."""
    metrics.OUTBOX_PUBLISHED.inc(published)
    if seen < limit:
        metrics.OUTBOX_PENDING.set(seen - published)
        return
    query = select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
    metrics.OUTBOX_PENDING.set(session.exec(query).one())
