"""Librarians' credentials and what they may reach: passwords (argon2), API tokens, organisations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from pwdlib import PasswordHash
from sqlmodel import Session, select

from services.subscriptions.models import ApiToken, Librarian, Membership

_hasher = PasswordHash.recommended()
#: Verified against when the e-mail is unknown, so that timing does not reveal which librarians exist.
_DUMMY_HASH = _hasher.hash("horizon-no-such-librarian")
TOKEN_PREFIX = "hzn_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


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


def issue_token(session: Session, librarian: Librarian, name: str = "", expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new API token: the row, and the secret shown to the librarian once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(librarian_id=librarian.id, name=name, token_hash=_digest(secret), expires_at=expires_at)
    session.add(row)
    session.commit()
    return row, secret


def librarian_for_token(session: Session, token: str) -> Librarian | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None or row.revoked:
        return None
    if row.expires_at is not None:
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=timezone.utc)
        if expires <= datetime.now(timezone.utc):
            return None
    librarian = session.get(Librarian, row.librarian_id)
    return librarian if librarian is not None and librarian.active else None


def organisation_ids(session: Session, librarian: Librarian) -> set[str]:
    """The organisations a librarian acts for: every read and write is limited to these."""
    rows = session.exec(select(Membership.organisation_id).where(Membership.librarian_id == librarian.id))
    return set(rows.all())
