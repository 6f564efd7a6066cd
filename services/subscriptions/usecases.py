"""What librarians and subscribers do to subscribers and their profiles (organisations: accounts.py).

Every change to a subscriber writes its ProfileChanged to the outbox in the same transaction.
`actor` is the librarian acting (their organisations bound what they reach) or None for the
system itself (bootstrap, the demo, self-service by a signed link). Expected failures come back
as a `Problem`, never as an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, delete, select

from services.subscriptions import outbox, papers, profiles, vocabulary
from services.subscriptions.access import NOT_FOUND, Problem, scope
from services.subscriptions.models import (
    BoardRecipient,
    DeliveryLog,
    ExamplePaper,
    FeedbackLog,
    Librarian,
    MailRow,
    Organisation,
    ProfileRow,
    Subscriber,
    now,
)
from services.subscriptions.schemas import (
    ExamplePaperPublic,
    SubscriberCreate,
    SubscriberPublic,
    SubscriberRef,
    SubscriberUpdate,
    UnfoundPaper,
)

log = logging.getLogger(__name__)


# --- subscribers ------------------------------------------------------------------------------


def get_subscriber(session: Session, actor: Librarian | None, subscriber_id: str, lock: bool = False) -> Subscriber | None:
    """The subscriber if the actor may see them; None for both 'absent' and 'not yours'."""
    query = select(Subscriber).where(Subscriber.id == subscriber_id)
    if lock:
        query = query.with_for_update()
    sub = session.exec(query).first()
    allowed = scope(session, actor)
    if sub is None or (allowed is not None and sub.organisation_id not in allowed):
        return None
    return sub


def list_subscribers(
    session: Session, actor: Librarian | None, q: str = "", organisation_id: str | None = None,
    status: str | None = None, limit: int = 50, offset: int = 0,
) -> list[Subscriber]:
    query = select(Subscriber)
    allowed = scope(session, actor)
    if allowed is not None:
        query = query.where(Subscriber.organisation_id.in_(allowed))
    if organisation_id:
        query = query.where(Subscriber.organisation_id == organisation_id)
    if status:
        query = query.where(Subscriber.status == status)
    if q.strip():
        pattern = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Subscriber.name).like(pattern, escape="\\"),
                                Subscriber.email_key.like(pattern, escape="\\"),
                                func.lower(Subscriber.role).like(pattern, escape="\\")))
    query = query.order_by(Subscriber.name, Subscriber.id).offset(max(offset, 0)).limit(min(max(limit, 1), 500))
    return list(session.exec(query).all())


def profile_of(session: Session, sub: Subscriber) -> ProfileRow:
    return session.get(ProfileRow, sub.id) or ProfileRow(subscriber_id=sub.id)


def is_board_recipient(session: Session, sub: Subscriber) -> bool:
    return session.get(BoardRecipient, (sub.organisation_id, sub.id)) is not None


def public(session: Session, sub: Subscriber) -> SubscriberPublic:
    prof = profile_of(session, sub)
    org = session.get(Organisation, sub.organisation_id)
    return SubscriberPublic(
        **profiles.file_row(sub, prof), id=sub.id, organisation_id=sub.organisation_id,
        organisation_name=org.name if org else "", status=sub.status, version=sub.version,
        board_briefing=is_board_recipient(session, sub), created_at=sub.created_at, updated_at=sub.updated_at,
        example_papers=[ExamplePaperPublic(ref=r.ref, status=r.status, title=r.title, source=r.source, error=r.error)
                        for r in papers.statuses(session, prof.examples)],
        liked=list(prof.liked or []), disliked=list(prof.disliked or []),
    )


def current_profile_event(session: Session, sub: Subscriber):
    """The subscriber's ProfileChanged at its current version, example papers' texts included."""
    org = session.get(Organisation, sub.organisation_id)
    prof = profile_of(session, sub)
    return profiles.changed(sub, prof, org.name if org else "", is_board_recipient(session, sub),
                            papers.texts(session, prof.examples))


def draft_profile(session: Session, sub: Subscriber, data: SubscriberUpdate):
    """The subscriber's Profile as it would be with these changes, nothing saved: for a preview."""
    prof = ProfileRow(**profile_of(session, sub).model_dump())  # transient copies: never flushed
    fields = {k: v for k, v in data.model_dump(exclude_unset=True, exclude={"board_briefing", "status"}).items()
              if v is not None}
    draft_sub = Subscriber(**sub.model_dump())
    profiles.apply_fields(draft_sub, prof, fields)
    org = session.get(Organisation, sub.organisation_id)
    return profiles.to_profile(draft_sub, prof, org.name if org else "", is_board_recipient(session, sub),
                               papers.texts(session, prof.examples))


def emit_change(session: Session, sub: Subscriber, prof: ProfileRow) -> None:
    """Bump the version and queue the ProfileChanged (example papers not yet known are queued
    for lookup); the caller commits both with the change."""
    sub.version += 1
    sub.updated_at = now()
    session.add(sub)
    session.add(prof)
    session.flush()
    papers.track(session, prof.examples)
    outbox.record(session, current_profile_event(session, sub))


def set_board(session: Session, sub: Subscriber, on: bool) -> bool:
    """Make the subscriber one of the organisation's board briefing recipients, or not; True if that changed."""
    row = session.get(BoardRecipient, (sub.organisation_id, sub.id))
    if on and row is None:
        session.add(BoardRecipient(organisation_id=sub.organisation_id, subscriber_id=sub.id))
        session.flush()
        return True
    if not on and row is not None:
        session.delete(row)
        session.flush()
        return True
    return False


def _email_taken(session: Session, organisation_id: str, email: str, except_id: str | None = None) -> bool:
    query = select(Subscriber.id).where(
        Subscriber.organisation_id == organisation_id, Subscriber.email_key == email.lower()
    )
    return any(sid != except_id for sid in session.exec(query).all())


def resolve_organisation(session: Session, actor: Librarian | None, organisation_id: str | None) -> str | Problem:
    allowed = scope(session, actor)
    if organisation_id is None:
        if allowed is not None and len(allowed) == 1:
            return next(iter(allowed))
        return Problem(422, "organisation_id is required")
    if (allowed is not None and organisation_id not in allowed) or session.get(Organisation, organisation_id) is None:
        return Problem(404, "organisation not found")
    return organisation_id


def _known_topics(data):
    """The data with its topics as taxonomy ids, or the Problem of topics the taxonomy lacks."""
    if not data.topics:
        return data
    ids, problem = vocabulary.checked_topics(list(data.topics))
    return Problem(422, problem) if problem else data.model_copy(update={"topics": ids})


def create_subscriber(session: Session, actor: Librarian | None, data: SubscriberCreate) -> Subscriber | Problem:
    data = _known_topics(data)
    if isinstance(data, Problem):
        return data
    org_id = resolve_organisation(session, actor, data.organisation_id)
    if isinstance(org_id, Problem):
        return org_id
    if _email_taken(session, org_id, data.email):
        return Problem(409, "a subscriber with that e-mail already exists in this organisation")
    sub = Subscriber(organisation_id=org_id, name=data.name, email=data.email, email_key=data.email.lower())
    prof = ProfileRow(subscriber_id=sub.id)
    session.add(sub)
    session.flush()
    profiles.apply_fields(sub, prof, data.model_dump(exclude={"organisation_id", "board_briefing"}))
    set_board(session, sub, data.board_briefing)
    emit_change(session, sub, prof)
    session.commit()
    log.info("subscriber created", extra={"subscriber_id": sub.id, "organisation_id": org_id})
    return sub


def update_subscriber(session: Session, actor: Librarian | None, subscriber_id: str, data: SubscriberUpdate) -> Subscriber | Problem:
    data = _known_topics(data)
    if isinstance(data, Problem):
        return data
    sub = get_subscriber(session, actor, subscriber_id, lock=True)
    if sub is None:
        return NOT_FOUND
    fields: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"board_briefing"})
    fields = {k: v for k, v in fields.items() if v is not None}
    if "email" in fields and _email_taken(session, sub.organisation_id, fields["email"], except_id=sub.id):
        return Problem(409, "a subscriber with that e-mail already exists in this organisation")
    prof = profile_of(session, sub)
    dirty = profiles.apply_fields(sub, prof, fields)
    if data.board_briefing is not None:
        dirty = set_board(session, sub, data.board_briefing) or dirty
    if dirty:
        emit_change(session, sub, prof)
        session.commit()
        log.info("subscriber updated", extra={"subscriber_id": sub.id, "version": sub.version})
    return sub


# --- learning from feedback ------------------------------------------------------------------------

#: Items kept per verdict, newest first: enough to steer a profile, few enough that old ones fade.
FEEDBACK_KEPT = 20


def learn_from_feedback(session: Session, subscriber_id: str, item_id: str, verdict: str) -> bool:
    """Keep a "useful" or "not relevant" verdict on the subscriber's profile and publish it
    (classify matches more like the useful items, and never the same work as one not relevant);
    a later verdict on the same item replaces the earlier. True when the profile changed."""
    if verdict not in ("useful", "not_relevant") or not item_id:
        return False
    sub = get_subscriber(session, None, subscriber_id, lock=True)
    if sub is None or sub.status != "active":
        return False
    prof = profile_of(session, sub)
    keep, drop = ("liked", "disliked") if verdict == "useful" else ("disliked", "liked")
    was_kept, was_dropped = list(getattr(prof, keep) or []), list(getattr(prof, drop) or [])
    kept = [item_id, *[i for i in was_kept if i != item_id]][:FEEDBACK_KEPT]
    dropped = [i for i in was_dropped if i != item_id]
    if kept == was_kept and dropped == was_dropped:
        return False
    setattr(prof, keep, kept)
    setattr(prof, drop, dropped)
    emit_change(session, sub, prof)
    log.info("profile learnt from feedback", extra={"subscriber_id": sub.id, "verdict": verdict, "version": sub.version})
    return True


def forget_feedback(session: Session, actor: Librarian | None, subscriber_id: str) -> Subscriber | Problem:
    """Clear what the profile learnt from feedback (a librarian's reset)."""
    sub = get_subscriber(session, actor, subscriber_id, lock=True)
    if sub is None:
        return NOT_FOUND
    prof = profile_of(session, sub)
    if prof.liked or prof.disliked:
        prof.liked, prof.disliked = [], []
        emit_change(session, sub, prof)
        session.commit()
        log.info("feedback forgotten", extra={"subscriber_id": sub.id, "version": sub.version})
    return sub


def delete_subscriber(session: Session, actor: Librarian | None, subscriber_id: str) -> int | Problem:
    """Erase the subscriber and everything held about them; a tombstone tells every service."""
    sub = get_subscriber(session, actor, subscriber_id, lock=True)
    if sub is None:
        return NOT_FOUND
    org_id, version = sub.organisation_id, sub.version + 1
    set_board(session, sub, False)
    prof = session.get(ProfileRow, sub.id)
    if prof is not None:
        session.delete(prof)
    session.flush()
    session.delete(sub)
    # the e-mails of links they asked for hold their address (and, until sent, a link)
    session.exec(delete(MailRow).where(MailRow.subscriber_id == subscriber_id))  # type: ignore[call-overload]
    for log_table in (DeliveryLog, FeedbackLog):  # their history with Horizon goes with them
        session.exec(delete(log_table).where(log_table.subscriber_id == subscriber_id))  # type: ignore[call-overload]
    outbox.record(session, profiles.tombstone(subscriber_id, org_id, version))
    session.commit()
    log.info("subscriber deleted", extra={"subscriber_id": subscriber_id, "version": version})
    return version


def set_board_recipients(session: Session, actor: Librarian | None, organisation_id: str, subscriber_ids: list[str]) -> list[str] | Problem:
    """Make exactly these subscribers the organisation's board-briefing recipients."""
    org_id = resolve_organisation(session, actor, organisation_id)
    if isinstance(org_id, Problem):
        return org_id
    wanted = set(subscriber_ids)
    subs = list(session.exec(select(Subscriber).where(Subscriber.organisation_id == org_id)).all())
    known = {s.id for s in subs}
    if not wanted <= known:
        return Problem(404, "subscriber not found")
    for sub in subs:
        if set_board(session, sub, sub.id in wanted):
            emit_change(session, sub, profile_of(session, sub))
    session.commit()
    return sorted(wanted)


def board_recipients(session: Session, organisation_id: str) -> list[str]:
    rows = session.exec(select(BoardRecipient.subscriber_id).where(BoardRecipient.organisation_id == organisation_id))
    return sorted(rows.all())


# --- self-service (the subscriber, through a signed link) ------------------------------------


def unsubscribe(session: Session, subscriber_id: str) -> Subscriber | Problem:
    return update_subscriber(session, None, subscriber_id, SubscriberUpdate(status="unsubscribed"))


def my_data(session: Session, subscriber_id: str) -> dict[str, Any] | Problem:
    """Everything held about a subscriber, for a subject access request (UK GDPR art. 15)."""
    sub = get_subscriber(session, None, subscriber_id)
    if sub is None:
        return NOT_FOUND
    return public(session, sub).model_dump(mode="json")


# --- example papers -----------------------------------------------------------------------------


def papers_needing_attention(session: Session, actor: Librarian | None, limit: int = 200) -> list[UnfoundPaper]:
    """Example papers that could not be found (not_found, or given up on), each with the
    subscribers in the actor's organisations who name it: what a librarian should correct."""
    allowed = scope(session, actor)
    rows = session.exec(select(ExamplePaper).where(ExamplePaper.status.in_([papers.NOT_FOUND, papers.FAILED]))
                        .order_by(ExamplePaper.updated_at.desc()).limit(limit)).all()
    out = []
    for row in rows:
        subs = [s for s in papers.subscribers_naming(session, row.ref)
                if allowed is None or s.organisation_id in allowed]
        if subs:
            out.append(UnfoundPaper(ref=row.ref, status=row.status, error=row.error,
                                    subscribers=[SubscriberRef(id=s.id, name=s.name)
                                                 for s in sorted(subs, key=lambda s: s.name)]))
    return out


def resolve_example_papers(sessions, resolve: Callable[[str], papers.Paper], limit: int = 20,
                           at: datetime | None = None) -> int:
    """Look up the example papers due (papers.due) with `resolve`, then record every outcome in
    one transaction that also republishes each profile naming a newly resolved paper (once,
    whatever the number of its papers resolved). The lookups run outside any transaction: they
    are network calls, and a crash among them only means they are made again. Returns how many
    papers were resolved."""
    at = at or now()
    with sessions() as session:
        refs = papers.due(session, at, limit)
    if not refs:
        return 0
    outcomes: dict[str, papers.Paper | Exception] = {}
    for ref in refs:
        try:
            outcomes[ref] = resolve(ref)
        except (papers.PaperNotFound, papers.ServiceUnavailable) as exc:
            outcomes[ref] = exc
        except Exception as exc:  # an unexpected failure is retried with back-off, never fatal
            log.exception("example paper lookup failed", extra={"ref": ref})
            outcomes[ref] = papers.ServiceUnavailable(repr(exc))
        log.info("example paper looked up", extra={"ref": ref, "outcome": type(outcomes[ref]).__name__})
    with sessions() as session:
        resolved = [ref for ref, outcome in outcomes.items() if papers.record_result(session, ref, outcome, at)]
        session.flush()
        republish = {sub.id for ref in resolved for sub in papers.subscribers_naming(session, ref)}
        for subscriber_id in sorted(republish):
            sub = get_subscriber(session, None, subscriber_id, lock=True)
            if sub is not None:
                emit_change(session, sub, profile_of(session, sub))
        session.commit()
    return len(resolved)
