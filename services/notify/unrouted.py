"""Urgent items that reached nobody, and items the library team sends on by hand.

`notice`: each patient safety alert or new national guidance (urgent, and a safety alert or a
guideline) classified more than the grace period ago (and within the last month, so that a new
database does not report its whole history), that matched no subscriber at all, is recorded once
and queued as ItemUnrouted; the app's relay publishes it (subscriptions lists it for librarians)
and marks it published only once the broker has it. `routed_matches`: an ItemRouted from
subscriptions becomes one urgent ItemMatched per subscriber, reason "Sent by your library team",
so the usual path delivers it: an alert now, or the next digest for those who take no alerts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, update
from sqlmodel import select

from contracts import EvidenceType, Item, ItemMatched, ItemRouted, ItemUnrouted, MatchReason, derived_event_id
from services.notify.store import NotifyStore
from services.notify.tables import ItemRow, MatchRow, UnroutedRow, as_utc, aware

URGENT_KINDS = (str(EvidenceType.safety_alert), str(EvidenceType.guideline))
LOOKBACK = timedelta(days=31)
LIBRARY_REASON = "Sent by your library team"


def unrouted_event(row: ItemRow) -> ItemUnrouted:
    item = Item.model_validate(row.item)
    return ItemUnrouted(
        event_id=derived_event_id("unrouted", row.item_id), producer="notify", item_id=row.item_id,
        title=item.title, url=item.url or "", source_title=item.source_title or item.publisher or "",
        evidence_type=EvidenceType(row.evidence_type), published_at=item.published_at,
        classified_at=aware(row.classified_at),
    )


def notice(store: NotifyStore, now: datetime, grace: timedelta) -> list[str]:
    """Record the urgent items that matched nobody within `grace`; the ids newly recorded."""
    now = as_utc(now)
    query = select(ItemRow).where(
        ItemRow.urgent == True, ItemRow.evidence_type.in_(URGENT_KINDS),  # type: ignore[attr-defined]  # noqa: E712
        ItemRow.classified_at <= now - grace, ItemRow.classified_at >= now - LOOKBACK,
        ~exists().where(MatchRow.item_id == ItemRow.item_id),
        ~exists().where(UnroutedRow.item_id == ItemRow.item_id),
    )
    with store.session() as s:
        rows = s.exec(query).all()
        for row in rows:
            s.add(UnroutedRow(item_id=row.item_id, noticed_at=now, event=unrouted_event(row).model_dump(mode="json")))
        s.commit()
    return [r.item_id for r in rows]


def pending(store: NotifyStore, limit: int = 100) -> list[ItemUnrouted]:
    """Recorded but not yet published, oldest first."""
    query = select(UnroutedRow).where(UnroutedRow.published == False).order_by(UnroutedRow.noticed_at).limit(limit)  # noqa: E712
    with store.session() as s:
        return [ItemUnrouted.model_validate(r.event) for r in s.exec(query).all()]


def mark_published(store: NotifyStore, item_ids: list[str]) -> None:
    if item_ids:
        with store.session() as s:
            s.exec(update(UnroutedRow).where(UnroutedRow.item_id.in_(item_ids)).values(published=True))  # type: ignore[call-overload,attr-defined]
            s.commit()


def routed_matches(event: ItemRouted) -> list[ItemMatched]:
    """The matches an ItemRouted stands for: one per subscriber named, urgent, with its reason."""
    text = LIBRARY_REASON + (f": {event.note}" if event.note else "")
    return [
        ItemMatched(
            event_id=derived_event_id("routed", event.event_id, sid), occurred_at=event.occurred_at,
            producer=event.producer, item_id=event.item_id, subscriber_id=sid, organisation_id=event.organisation_id,
            score=1.0, reasons=[MatchReason(kind="library", text=text, score=1.0)], urgent=True,
        )
        for sid in dict.fromkeys(event.subscriber_ids)
    ]
