"""Full-text requests: what subscribers asked the library for, in a queue librarians work through.

1. A subscriber confirms "request the full text" on notify's link page; notify publishes a
   FeedbackGiven (verdict full_text_request, with the item's title and link).
2. `record` (called by engagement.record_feedback, in the same transaction as the count) queues
   it: who asked, for what, status "new"; and, where the deployment names a request address
   (HORIZON_SUBSCRIPTIONS_REQUESTS_ADDRESS), an e-mail to it in the mail outbox (mail.py sends it).
3. Librarians see the queue (/requests) with links to find the text (DOI, PubMed, the publisher's
   page), and move each request new -> supplied -> closed with a note. `waiting_count` counts
   the new ones (the librarian's home page shows the number).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import Session, func, select

from contracts import FeedbackGiven
from services.subscriptions.access import Problem
from services.subscriptions.models import FullTextRequest, MailRow, Subscriber, now

log = logging.getLogger(__name__)
STATUSES = ("new", "supplied", "closed")


def record(session: Session, event: FeedbackGiven, organisation_id: str, mail_to: str = "") -> FullTextRequest | None:
    """Queue a full-text request (in the caller's transaction); None for any other verdict."""
    if event.verdict != "full_text_request":
        return None
    request = FullTextRequest(
        event_id=event.event_id, organisation_id=organisation_id, subscriber_id=event.subscriber_id,
        item_id=event.item_id[:300], title=event.title[:2000], url=event.url[:2000], requested_at=event.occurred_at,
        updated_at=event.occurred_at,
    )
    session.add(request)
    sub = session.get(Subscriber, event.subscriber_id)
    if mail_to and sub is not None:
        session.add(MailRow(subscriber_id=sub.id, purpose="full_text", recipient=mail_to,
                            subject=f"Full-text request: {(event.title or event.item_id)[:150]}",
                            body=mail_body(sub, request), created_at=now()))
        request.mailed_at = now()
    log.info("full-text request queued", extra={"subscriber_id": event.subscriber_id, "item_id": event.item_id,
                                                "mailed": bool(mail_to and sub)})
    return request


@dataclass(frozen=True)
class Finder:
    label: str
    url: str


def finders(item_id: str, url: str) -> list[Finder]:
    """Where a librarian can look for the text: the DOI, PubMed, the publisher's own page."""
    out = []
    kind, _, value = item_id.partition(":")
    if kind == "doi" and value:
        out.append(Finder(f"DOI {value}", f"https://doi.org/{quote(value, safe='/:;()._-')}"))
    if kind == "pmid" and value.isdigit():
        out.append(Finder(f"PubMed {value}", f"https://pubmed.ncbi.nlm.nih.gov/{value}/"))
    if url.startswith(("https://", "http://")):
        out.append(Finder("Publisher's page", url))
    return out


def mail_body(sub: Subscriber, request: FullTextRequest) -> str:
    where = "\n".join(f"  {f.label}: {f.url}" for f in finders(request.item_id, request.url)) or "  (no link known)"
    return (
        f"{sub.name}{f' ({sub.role})' if sub.role else ''} <{sub.email}> asked for the full text of:\n\n"
        f"  {request.title or request.item_id}\n\n{where}\n\n"
        "The request is in the librarian queue (Full-text requests); mark it supplied there when it is sent.\n"
    )


def queue(session: Session, organisation_ids: Iterable[str], status: str = "", limit: int = 200
          ) -> list[tuple[FullTextRequest, Subscriber | None]]:
    """Requests of these organisations, newest first, with who asked."""
    query = (select(FullTextRequest, Subscriber).join(Subscriber, Subscriber.id == FullTextRequest.subscriber_id, isouter=True)
             .where(FullTextRequest.organisation_id.in_(list(organisation_ids))))  # type: ignore[attr-defined]
    if status in STATUSES:
        query = query.where(FullTextRequest.status == status)
    return list(session.exec(query.order_by(FullTextRequest.requested_at.desc()).limit(limit)).all())  # type: ignore[attr-defined]


def waiting_count(session: Session, organisation_ids: Iterable[str]) -> int:
    """How many requests of these organisations are new (not yet supplied or closed)."""
    ids = list(organisation_ids)
    if not ids:
        return 0
    return session.exec(select(func.count()).select_from(FullTextRequest).where(
        FullTextRequest.organisation_id.in_(ids), FullTextRequest.status == "new")).one()  # type: ignore[attr-defined]


def update(session: Session, request_id: int, status: str, note: str, allowed: set[str]) -> FullTextRequest | Problem:
    """Move a request on (new -> supplied -> closed, or back) and keep the librarian's note."""
    request = session.get(FullTextRequest, request_id)
    if request is None or request.organisation_id not in allowed:
        return Problem(404, "request not found")
    if status not in STATUSES:
        return Problem(422, "status must be new, supplied or closed")
    request.status, request.note, request.updated_at = status, note.strip()[:2000], now()
    session.add(request)
    session.commit()
    return request
