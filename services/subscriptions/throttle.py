"""Log-in throttling: failures counted per account and per address, then a lockout.

Each key (an account, by a hash of the e-mail as typed, whether or not such a librarian exists;
and the address the attempt came from) counts failures in a window of `window_s`. At its limit
the key is locked for `lockout_s`: while any key of an attempt is locked, the attempt is refused
without looking at the password, so the right password does not get in either. A success clears
the account's count (not the address's: one good account must not reset an address that is
guessing at others). Counts live in the database, so every process behind a balancer shares them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, select

from services.subscriptions.models import LoginAttempt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int = 5
    address_failures: int = 50
    window_s: int = 900
    lockout_s: int = 900


def account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:40]


def keys(email: str, address: str, policy: ThrottlePolicy) -> list[tuple[str, int]]:
    """The keys an attempt counts against, each with its limit."""
    found = [(account_key(email), policy.account_failures)]
    if address:
        found.append(("address:" + address[:80], policy.address_failures))
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def locked_until(db: Session, counted: list[tuple[str, int]], now: datetime) -> datetime | None:
    """The end of the latest lockout among these keys, or None when none is locked."""
    rows = db.exec(select(LoginAttempt).where(LoginAttempt.key.in_([k for k, _ in counted]))).all()  # type: ignore[attr-defined]
    ends = [_aware(r.locked_until) for r in rows if r.locked_until is not None and _aware(r.locked_until) > now]
    return max(ends, default=None)


def failed(db: Session, counted: list[tuple[str, int]], policy: ThrottlePolicy, now: datetime) -> None:
    """Count a failure against each key; lock those that reach their limit."""
    for attempt in range(2):
        try:
            for key, limit in counted:
                _count(db, key, limit, policy, now)
            db.commit()
            return
        except IntegrityError:  # another process made the row first: count again on it
            db.rollback()
            if attempt:
                raise


def _count(db: Session, key: str, limit: int, policy: ThrottlePolicy, now: datetime) -> None:
    row = db.get(LoginAttempt, key, with_for_update=True)
    if row is None:
        row = LoginAttempt(key=key, failures=0, window_started_at=now)
    elif now - _aware(row.window_started_at) > timedelta(seconds=policy.window_s):
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + timedelta(seconds=policy.lockout_s)
        row.failures, row.window_started_at = 0, now
        log.warning("log-ins locked", extra={"key": key.split(":")[0], "until": row.locked_until.isoformat()})
    db.add(row)
    db.flush()


def succeeded(db: Session, email: str) -> None:
    db.exec(delete(LoginAttempt).where(LoginAttempt.key == account_key(email)))  # type: ignore[call-overload]
    db.commit()
