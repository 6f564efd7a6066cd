"""From a link token to what it names, through the delivery log: the one place a link is checked.

A token is refused when its signature is not genuine ('invalid'), when it is another kind of link
than the route serves ('invalid': a click token is no feedback token), when its delivery is older
than the links' lifetime ('expired'), and when its delivery or subscriber is gone ('gone': an
erased subscriber's deliveries are deleted with them, and their links die with them).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlmodel import select

from services.notify.links import BadLink, LinkClaims, Links
from services.notify.store import NotifyStore
from services.notify.tables import DeliveryRow, SubscriberRow, aware


def resolve(store: NotifyStore, links: Links, token: str, actions: Collection[str], now: datetime) -> LinkClaims | BadLink:
    """The claims of a genuine, live token of one of `actions`; otherwise why it is refused."""
    ref = links.parse(token)
    if isinstance(ref, BadLink):
        return ref
    if ref.action not in actions:
        return BadLink("invalid")
    query = (select(DeliveryRow.subscriber_id, DeliveryRow.organisation_id, DeliveryRow.digest_id, DeliveryRow.item_ids,
                    DeliveryRow.created_at, SubscriberRow.deleted)
             .join(SubscriberRow, SubscriberRow.subscriber_id == DeliveryRow.subscriber_id, isouter=True)
             .where(DeliveryRow.link_id == ref.link_id))
    with store.session() as s:
        row = s.exec(query).first()
    if row is None or row.deleted is not False:
        return BadLink("gone")
    if now - aware(row.created_at) > timedelta(seconds=links.max_age_s):
        return BadLink("expired")
    if ref.index >= len(row.item_ids):
        return BadLink("invalid")
    return LinkClaims(row.subscriber_id, row.organisation_id, row.item_ids[ref.index], row.digest_id, ref.action)
