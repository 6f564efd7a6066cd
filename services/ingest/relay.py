"""Publishing claimed events: by their claimer at once, and by the relay when the claimer could not.

Every `ItemDiscovered` is in the store's outbox from the moment its work was claimed (seen.py).
- `publish_claimed(events, store, publish, now)`: publish in order and clear each from the
  outbox; on a failed publish, hand the rest to the relay (released) and re-raise.
- `relay_outbox(store, publish, now, hold_s)`: publish what is due in the outbox: events of a
  failed publish, or of an ingest process that died between claim and publish (after their hold).
A publish that succeeded but was not cleared (a crash right after it) is repeated under the same
event id: delivery is at-least-once and consumers are idempotent on the event id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from contracts import ItemDiscovered
from services.ingest import metrics

log = logging.getLogger(__name__)

Publish = Callable[[ItemDiscovered], Awaitable[object]]


class Outbox(Protocol):
    """The outbox side of the store (SqlStore)."""

    def take_due(self, now: datetime, hold_until: datetime, limit: int = 500) -> list[ItemDiscovered]: ...
    def published(self, event_ids: list[str]) -> None: ...
    def release(self, event_ids: list[str], now: datetime) -> None: ...


async def publish_claimed(events: list[ItemDiscovered], store: Outbox, publish: Publish, now: datetime) -> None:
    """Publish claimed events in order; clear the published ones, release the others on a failure."""
    done: list[str] = []
    try:
        for event in events:
            await publish(event)
            done.append(event.event_id)
            metrics.ITEMS_PUBLISHED.inc()
    except BaseException:  # the broker failed, or we are cancelled: the relay takes the rest
        left = [e.event_id for e in events[len(done):]]
        log.warning("publish failed; left to the outbox relay", extra={"published": len(done), "left": len(left)})
        store.release(left, now)
        raise
    finally:
        store.published(done)


async def relay_outbox(store: Outbox, publish: Publish, now: datetime, hold_s: float) -> int:
    """Publish the outbox's due events (a failed or interrupted publish); returns how many."""
    events = store.take_due(now, now + timedelta(seconds=hold_s))
    if events:
        log.warning("publishing events left in the outbox",
                    extra={"events": len(events), "event_ids": [e.event_id for e in events[:10]]})
        await publish_claimed(events, store, publish, now)
    return len(events)
