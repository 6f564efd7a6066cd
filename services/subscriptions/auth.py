"""Librarians' credentials and what they may reach: passwords (argon2), API tokens, organisations.

API tokens are random secrets shown once; only their SHA-256 is stored. Every token expires
(`DEFAULT_TOKEN_DAYS` unless the caller asks for less or, up to the settings' maximum, more),
can be listed by its owner (name and dates, never the secret) and revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from pwdlib import PasswordHash
from sqlmodel import Session, select, update

from services.subscriptions.models import ApiToken, Librarian, Membership

_hasher = PasswordHash.recommended()
#: Verified against when the e-mail is unknown, so that timing does not reveal which librarians exist.
_DUMMY_HASH = _hasher.hash("horizon-no-such-librarian")
TOKEN_PREFIX = "hzn_"
DEFAULT_TOKEN_DAYS = 90
#: A token's last use is written at most this often.
_TOUCH_EVERY = timedelta(minutes=5)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(librarian: Librarian, password: str) -> bool:
    return _hasher.verify(password, librarian.password_hash)


def authenticate(session: Session, email: str, password: str) -> Librarian | None:
    librarian = session.exec(select(Librarian).where(Librarian.email == email.strip().lower())).first()
    if librarian is None or not librarian.active:
        _hasher.verify(password, _DUMMY_HASH)
        return None
    valid, new_hash = _hasher.verify_and_update(password, librarian.password_hash)
    if not valid:
        return None
    if new_hash:
        librarian.password_hash = new_hash
        session.add(librarian)
        session.commit()
    return librarian


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def issue_token(session: Session, librarian: Librarian, name: str = "", expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new API token: the row, and the secret shown to the librarian once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = expires_at or datetime.now(timezone.utc) + timedelta(days=DEFAULT_TOKEN_DAYS)
    row = ApiToken(librarian_id=librarian.id, name=name, token_hash=_digest(secret), expires_at=expires_at)
    session.add(row)
    session.commit()
    return row, secret


def librarian_for_token(session: Session, token: str) -> Librarian | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    now = datetime.now(timezone.utc)
    if row is None or row.revoked or row.expires_at is None or _aware(row.expires_at) <= now:
        return None
    librarian = session.get(Librarian, row.librarian_id)
    if librarian is None or not librarian.active:
        return None
    if row.last_used_at is None or now - _aware(row.last_used_at) >= _TOUCH_EVERY:
        row.last_used_at = now
        session.add(row)
        session.commit()
    return librarian


def live_tokens(session: Session, librarian: Librarian) -> list[ApiToken]:
    """The librarian's tokens that still work, newest first."""
    now = datetime.now(timezone.utc)
    rows = session.exec(select(ApiToken).where(ApiToken.librarian_id == librarian.id, ApiToken.revoked == False)  # noqa: E712
                        .order_by(ApiToken.created_at.desc())).all()  # type: ignore[attr-defined]
    return [r for r in rows if r.expires_at is not None and _aware(r.expires_at) > now]


def revoke_token(session: Session, librarian: Librarian, token_id: str) -> bool:
    """Revoke one of the librarian's own tokens; False if they have no such token."""
    row = session.get(ApiToken, token_id)
    if row is None or row.librarian_id != librarian.id or row.revoked:
        return False
    row.revoked = True
    session.add(row)
    session.commit()
    return True


def revoke_all_tokens(session: Session, librarian_id: str) -> None:
    session.exec(update(ApiToken).where(ApiToken.librarian_id == librarian_id).values(revoked=True))  # type: ignore[call-overload]
    session.commit()


def organisation_ids(session: Session, librarian: Librarian) -> set[str]:
    """The organisations a librarian acts for: every read and write is limited to these."""
    rows = session.exec(select(Membership.organisation_id).where(Membership.librarian_id == librarian.id))
    return set(rows.all())
