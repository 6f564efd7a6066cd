"""Librarians' web sessions, held on the server (`web_sessions`), so that they can be ended.

The cookie carries 32 random bytes; the table keeps only their SHA-256, the librarian, the CSRF
token of the session's forms, when it started and when it was last used. A session ends when the
librarian logs out, changes their password or is disabled (every session of theirs), when it has
been idle for `idle_s`, and `max_age_s` after it started however busy it is.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, delete, select

from services.subscriptions.models import Librarian, WebSessionRow

log = logging.getLogger(__name__)

#: A session's last use is written at most this often: one write a minute, not one a request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class WebSession:
    """A live session as a request sees it."""

    id: str
    librarian_id: str
    csrf: str
    admin: bool = False


def _id(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def start(db: Session, librarian: Librarian, now: datetime) -> tuple[str, WebSession]:
    """A new session for the librarian: the cookie value (for their browser only) and the session."""
    cookie = secrets.token_urlsafe(32)
    row = WebSessionRow(id=_id(cookie), librarian_id=librarian.id, csrf=secrets.token_urlsafe(32),
                        created_at=now, last_seen_at=now)
    db.add(row)
    db.commit()
    return cookie, WebSession(row.id, librarian.id, row.csrf, admin=librarian.role == "admin")


def current(db: Session, cookie: str, now: datetime, idle_s: int, max_age_s: int) -> WebSession | None:
    """The live session the cookie names, its last use noted; None if ended, timed out or the
    librarian is disabled (a timed-out session is deleted on the way)."""
    found = db.exec(select(WebSessionRow, Librarian).join(Librarian, Librarian.id == WebSessionRow.librarian_id)
                    .where(WebSessionRow.id == _id(cookie))).first()
    if found is None:
        return None
    row, librarian = found
    if (not librarian.active or now - _aware(row.last_seen_at) > timedelta(seconds=idle_s)
            or now - _aware(row.created_at) > timedelta(seconds=max_age_s)):
        db.delete(row)
        db.commit()
        return None
    if now - _aware(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        db.add(row)
        db.commit()
    return WebSession(row.id, row.librarian_id, row.csrf, admin=librarian.role == "admin")


def end(db: Session, cookie: str) -> None:
    db.exec(delete(WebSessionRow).where(WebSessionRow.id == _id(cookie)))  # type: ignore[call-overload]
    db.commit()


def end_all(db: Session, librarian_id: str) -> int:
    """End every session of the librarian (password changed, disabled); how many there were."""
    result = db.exec(delete(WebSessionRow).where(WebSessionRow.librarian_id == librarian_id))  # type: ignore[call-overload]
    db.commit()
    if result.rowcount:
        log.info("web sessions ended", extra={"librarian_id": librarian_id, "sessions": result.rowcount})
    return result.rowcount


def purge(db: Session, now: datetime, idle_s: int, max_age_s: int) -> None:
    """Delete sessions that have timed out (they are refused anyway; this keeps the table small)."""
    db.exec(delete(WebSessionRow).where(  # type: ignore[call-overload]
        (WebSessionRow.last_seen_at < now - timedelta(seconds=idle_s))
        | (WebSessionRow.created_at < now - timedelta(seconds=max_age_s))))
    db.commit()
