"""Urgent items that matched nobody, for librarians to send on: nothing urgent is dropped.

1. notify publishes ItemUnrouted when a safety alert or new national guidance has matched no
   subscriber a grace period after it was classified; `record` keeps it (once per item).
2. `waiting` lists, for a librarian's organisations, the items not yet sent on there;
   `waiting_count` counts them (the librarian's home page shows the number).
3. `route` sends one to chosen subscribers of one organisation: an ItemRouted in the outbox, in
   the same transaction as the routing row, which notify turns into urgent deliveries marked
   "sent by your library team". The item then waits no more for that organisation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from contracts import ItemRouted, ItemUnrouted
from services.subscriptions import outbox
from services.subscriptions.access import Problem
from services.subscriptions.models import Subscriber, UnroutedItem, UnroutedRouting, now

log = logging.getLogger(__name__)


def record(session: Session, event: ItemUnrouted) -> bool:
    """Keep an unrouted item; False if it was known already (redelivery)."""
    if session.get(UnroutedItem, event.item_id) is not None:
        return False
    session.add(UnroutedItem(
        item_id=event.item_id, title=event.title[:5000], url=event.url[:2000], source_title=event.source_title[:300],
        evidence_type=str(event.evidence_type), published_at=event.published_at, noticed_at=event.classified_at,
    ))
    try:
        session.commit()
    except IntegrityError:  # a concurrent consumer kept it first
        session.rollback()
        return False
    log.info("unrouted item recorded", extra={"item_id": event.item_id})
    return True


def _not_routed_for(organisation_ids: Iterable[str]):  # type: ignore[no-untyped-def]
    ids = list(organisation_ids)
    return ~exists().where(UnroutedRouting.item_id == UnroutedItem.item_id, UnroutedRouting.organisation_id.in_(ids))


def waiting(session: Session, organisation_ids: Iterable[str], limit: int = 200) -> list[UnroutedItem]:
    """Unrouted items not yet sent on for any of these organisations, newest first."""
    query = select(UnroutedItem).where(_not_routed_for(organisation_ids))
    return list(session.exec(query.order_by(UnroutedItem.noticed_at.desc()).limit(limit)).all())  # type: ignore[attr-defined]


def waiting_count(session: Session, organisation_ids: Iterable[str]) -> int:
    """How many unrouted items wait for these organisations' librarians."""
    ids = list(organisation_ids)
    if not ids:
        return 0
    return session.exec(select(func.count()).select_from(UnroutedItem).where(_not_routed_for(ids))).one()


def routed(session: Session, organisation_ids: Iterable[str], limit: int = 50) -> list[tuple[UnroutedItem, UnroutedRouting]]:
    """Items already sent on for these organisations, latest first."""
    query = (select(UnroutedItem, UnroutedRouting).join(UnroutedRouting, UnroutedRouting.item_id == UnroutedItem.item_id)
             .where(UnroutedRouting.organisation_id.in_(list(organisation_ids)))
             .order_by(UnroutedRouting.routed_at.desc()).limit(limit))  # type: ignore[attr-defined]
    return list(session.exec(query).all())


@dataclass(frozen=True)
class Routed:
    item: UnroutedItem
    organisation_id: str
    subscribers: int


def route(session: Session, item_id: str, organisation_id: str, subscriber_ids: list[str], librarian_email: str,
          allowed: set[str], note: str = "") -> Routed | Problem:
    """Send an unrouted item to chosen subscribers of one of the librarian's organisations."""
    if organisation_id not in allowed:
        return Problem(404, "organisation not found")
    item = session.get(UnroutedItem, item_id)
    if item is None:
        return Problem(404, "item not found")
    chosen = list(dict.fromkeys(subscriber_ids))
    found = session.exec(select(Subscriber.id).where(
        Subscriber.id.in_(chosen), Subscriber.organisation_id == organisation_id, Subscriber.status == "active",  # type: ignore[attr-defined]
    )).all()
    if not chosen or len(found) != len(chosen):
        return Problem(422, "choose one or more active subscribers of the organisation")
    if session.get(UnroutedRouting, (item_id, organisation_id)) is not None:
        return Problem(409, "this item has already been sent on for this organisation")
    session.add(UnroutedRouting(item_id=item_id, organisation_id=organisation_id, routed_by=librarian_email,
                                subscribers=len(chosen), routed_at=now()))
    outbox.record_event(session, ItemRouted(
        producer="subscriptions", item_id=item_id, organisation_id=organisation_id, subscriber_ids=chosen,
        routed_by=librarian_email, note=note.strip()[:300],
    ), key=item_id)
    session.commit()
    log.info("unrouted item sent on", extra={"item_id": item_id, "organisation_id": organisation_id,
                                            "subscribers": len(chosen)})
    return Routed(item, organisation_id, len(chosen))
