"""Logging in and changing a password: throttled, with one answer for every wrong attempt.

`log_in` refuses while the account or the address is locked (throttle.py) without checking the
password; otherwise a wrong e-mail and a wrong password get the same answer, after the same
password-hashing work. `change_password` checks the current password (its failures count against
the account too), applies the password policy and ends every web session of the librarian.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from services.subscriptions import auth, sessions, throttle
from services.subscriptions.access import Problem
from services.subscriptions.models import Librarian
from services.subscriptions.passwords import password_problem
from services.subscriptions.throttle import ThrottlePolicy

log = logging.getLogger(__name__)

WRONG = "Wrong e-mail or password."


@dataclass(frozen=True)
class Refused:
    """A log-in refused: 401 (wrong e-mail or password) or 429 (locked, `retry_after_s`)."""

    status: int
    message: str
    retry_after_s: int = 0


def log_in(db: Session, email: str, password: str, address: str, policy: ThrottlePolicy, now: datetime) -> Librarian | Refused:
    counted = throttle.keys(email, address, policy)
    until = throttle.locked_until(db, counted, now)
    if until is not None:
        wait = max(1, math.ceil((until - now).total_seconds()))
        log.info("log-in refused: locked", extra={"retry_after_s": wait})
        return Refused(429, f"Too many failed log-ins. Try again in {math.ceil(wait / 60)} minutes.", wait)
    librarian = auth.authenticate(db, email, password)
    if librarian is None:
        throttle.failed(db, counted, policy, now)
        return Refused(401, WRONG)
    throttle.succeeded(db, email)
    log.info("librarian logged in", extra={"librarian_id": librarian.id})
    return librarian


def change_password(db: Session, librarian: Librarian, current: str, new: str, policy: ThrottlePolicy,
                    now: datetime) -> Problem | None:
    """Set a new password; every web session of the librarian ends. None when done."""
    counted = throttle.keys(librarian.email, "", policy)
    if throttle.locked_until(db, counted, now) is not None:
        return Problem(429, "Too many wrong passwords. Try again later.")
    if not auth.password_matches(librarian, current):
        throttle.failed(db, counted, policy, now)
        return Problem(403, "Your current password is not right.")
    problem = password_problem(new, librarian.email)
    if problem:
        return Problem(422, problem[0].upper() + problem[1:] + ".")
    librarian.password_hash = auth.hash_password(new)
    db.add(librarian)
    db.commit()
    ended = sessions.end_all(db, librarian.id)
    log.info("password changed", extra={"librarian_id": librarian.id, "sessions_ended": ended})
    return None
