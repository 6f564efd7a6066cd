"""Reach and engagement per organisation, counted from notify's DigestSent and FeedbackGiven.

Each delivery and each verdict is also logged with its time (DeliveryLog, FeedbackLog): a
subscriber's history and impact over a date range (history.py) read those. Each event is counted once (its id is remembered); reach is the number of distinct
subscribers an organisation's digests went to. A "useful" or "not relevant" verdict is also
kept on the subscriber's profile (usecases.learn_from_feedback), in the same transaction.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from contracts import DigestSent, FeedbackGiven
from services.subscriptions import requests, usecases
from services.subscriptions.models import DeliveryLog, Engagement, FeedbackLog, ProcessedEvent, ReachRow, Subscriber

log = logging.getLogger(__name__)

_VERDICT_FIELD = {"click": "clicks", "useful": "useful", "not_relevant": "not_relevant",
                  "full_text_request": "full_text_requests"}


class EngagementPublic(BaseModel):
    organisation_id: str
    reach: int = 0
    digests: int = 0
    clicks: int = 0
    useful: int = 0
    not_relevant: int = 0
    full_text_requests: int = 0


def _first_time(session: Session, event_id: str) -> bool:
    if session.get(ProcessedEvent, event_id) is not None:
        return False
    session.add(ProcessedEvent(event_id=event_id))
    return True


def _counts(session: Session, organisation_id: str) -> Engagement:
    row = session.get(Engagement, organisation_id)
    if row is None:
        row = Engagement(organisation_id=organisation_id)
        session.add(row)
    return row


def _commit_once(session: Session, event_id: str) -> bool:
    try:
        session.commit()
        return True
    except IntegrityError:  # a concurrent consumer counted the same event first
        session.rollback()
        log.info("event already counted", extra={"event_id": event_id})
        return False


def record_digest(session: Session, event: DigestSent) -> bool:
    """Count a delivered digest; False when the event was already counted."""
    if not _first_time(session, event.event_id):
        return False
    row = _counts(session, event.organisation_id)
    row.digests += 1
    if session.get(ReachRow, (event.organisation_id, event.subscriber_id)) is None:
        session.add(ReachRow(organisation_id=event.organisation_id, subscriber_id=event.subscriber_id))
    if session.get(Subscriber, event.subscriber_id) is not None:  # an erased subscriber's history is not kept
        titles = list(event.item_titles)[:len(event.item_ids)]
        session.add(DeliveryLog(digest_id=event.digest_id[:200], subscriber_id=event.subscriber_id,
                                organisation_id=event.organisation_id, kind=event.kind, period=event.period[:40],
                                item_ids=list(event.item_ids), item_titles=titles + [""] * (len(event.item_ids) - len(titles)),
                                sent_at=event.sent_at))
    return _commit_once(session, event.event_id)


def record_feedback(session: Session, event: FeedbackGiven, requests_address: str = "") -> bool:
    """Count feedback; a full-text request is also queued for the library (requests.py)."""
    if not _first_time(session, event.event_id):
        return False
    organisation_id = event.organisation_id
    if not organisation_id:  # older notify events may leave it out: look the subscriber up
        sub = session.get(Subscriber, event.subscriber_id)
        organisation_id = sub.organisation_id if sub else ""
    if organisation_id:
        row = _counts(session, organisation_id)
        field = _VERDICT_FIELD[event.verdict]
        setattr(row, field, getattr(row, field) + 1)
    if session.get(Subscriber, event.subscriber_id) is not None:
        session.add(FeedbackLog(subscriber_id=event.subscriber_id, organisation_id=organisation_id,
                                item_id=event.item_id[:500], digest_id=event.digest_id[:200], verdict=event.verdict,
                                occurred_at=event.occurred_at))
    usecases.learn_from_feedback(session, event.subscriber_id, event.item_id, event.verdict)
    requests.record(session, event, organisation_id, requests_address)
    return _commit_once(session, event.event_id)


def engagement_for(session: Session, organisation_id: str) -> EngagementPublic:
    reach = session.exec(select(func.count()).select_from(ReachRow).where(ReachRow.organisation_id == organisation_id)).one()
    row = session.get(Engagement, organisation_id) or Engagement(organisation_id=organisation_id)
    return EngagementPublic(reach=reach, **row.model_dump())
