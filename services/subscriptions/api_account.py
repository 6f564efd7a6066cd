"""The REST API's accounts (/api): log in for a token, one's tokens and password, and librarians.

- POST /api/auth/token: throttled log-in (credentials.py) giving a token that expires;
- GET, POST /api/tokens and DELETE /api/tokens/{id}: one's live tokens (never their secrets),
  another one (its secret shown once), revoking one;
- GET /api/me, POST /api/me/password (ends every web session of the librarian);
- POST, GET /api/librarians and POST /api/librarians/{id}/disable|enable (admins, for librarians
  of their own organisations: disabling ends their sessions and revokes their tokens).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from services.subscriptions import accounts, auth, credentials
from services.subscriptions.api import DB, Me, ok
from services.subscriptions.context import ctx
from services.subscriptions.models import Librarian, now
from services.subscriptions.schemas import Email, Text

router = APIRouter(prefix="/api", tags=["api"])


class Login(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)
    token_name: Text = Field(default="api", max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, description="Default: HORIZON_SUBSCRIPTIONS_API_TOKEN_DAYS.")


class TokenIn(BaseModel):
    name: Text = Field(default="api", max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, description="Default: HORIZON_SUBSCRIPTIONS_API_TOKEN_DAYS.")


class TokenIssued(BaseModel):
    token: str = Field(description="Shown once; send as 'Authorization: Bearer <token>'.")
    token_id: str
    expires_at: datetime


class TokenOut(BaseModel):
    """A token as its owner sees it listed: never its secret."""

    id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)


class LibrarianIn(BaseModel):
    email: Email
    password: str = Field(min_length=12, max_length=1000)
    name: Text = ""
    role: Literal["admin", "librarian"] = "librarian"
    organisation_ids: list[str] = Field(default_factory=list)


class LibrarianOut(BaseModel):
    id: str
    email: str
    name: str
    role: str
    active: bool = True
    organisation_ids: list[str]


def _librarian_out(session: Session, lib: Librarian) -> LibrarianOut:
    return LibrarianOut(id=lib.id, email=lib.email, name=lib.name, role=lib.role, active=lib.active,
                        organisation_ids=sorted(auth.organisation_ids(session, lib)))


def _issue(request: Request, session: Session, librarian: Librarian, name: str, days: int | None) -> TokenIssued:
    settings = ctx(request).settings
    days = days or settings.api_token_days
    if days > settings.api_token_max_days:
        raise HTTPException(422, f"a token lives at most {settings.api_token_max_days} days")
    row, secret = auth.issue_token(session, librarian, name, now() + timedelta(days=days))
    return TokenIssued(token=secret, token_id=row.id, expires_at=row.expires_at)


@router.post("/auth/token", response_model=TokenIssued, summary="Log in and get an API token",
             responses={401: {"description": "Wrong e-mail or password"}, 429: {"description": "Too many failed log-ins"}})
def login(request: Request, session: DB, body: Login) -> TokenIssued:
    address = request.client.host if request.client else ""
    outcome = credentials.log_in(session, body.email, body.password, address, ctx(request).settings.throttle_policy, now())
    if isinstance(outcome, credentials.Refused):
        headers = {"Retry-After": str(outcome.retry_after_s)} if outcome.retry_after_s else None
        raise HTTPException(outcome.status, outcome.message, headers=headers)
    return _issue(request, session, outcome, body.token_name, body.expires_in_days)


@router.get("/me", response_model=LibrarianOut)
def me(session: DB, librarian: Me) -> LibrarianOut:
    return _librarian_out(session, librarian)


@router.post("/me/password", status_code=204, summary="Change your password (ends every web session of yours)")
def change_password(request: Request, session: DB, librarian: Me, body: PasswordChange) -> Response:
    ok(credentials.change_password(session, librarian, body.current_password, body.new_password,
                                   ctx(request).settings.throttle_policy, now()))
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut], summary="Your live API tokens (never their secrets)")
def list_tokens(session: DB, librarian: Me) -> list[TokenOut]:
    return [TokenOut.model_validate(t, from_attributes=True) for t in auth.live_tokens(session, librarian)]


@router.post("/tokens", response_model=TokenIssued, status_code=201, summary="Make another API token")
def create_token(request: Request, session: DB, librarian: Me, body: TokenIn) -> TokenIssued:
    return _issue(request, session, librarian, body.name, body.expires_in_days)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of your API tokens")
def revoke_token(session: DB, librarian: Me, token_id: str) -> Response:
    if not auth.revoke_token(session, librarian, token_id):
        raise HTTPException(404, "token not found")
    return Response(status_code=204)


@router.post("/librarians", response_model=LibrarianOut, status_code=201, summary="Add a librarian (admin)")
def create_librarian(session: DB, librarian: Me, body: LibrarianIn) -> LibrarianOut:
    created = ok(accounts.create_librarian(session, body.email, body.password, body.role, body.organisation_ids,
                                           body.name, actor=librarian))
    return _librarian_out(session, created)


@router.get("/librarians", response_model=list[LibrarianOut], summary="The librarians of your organisations (admin)")
def list_librarians(session: DB, librarian: Me) -> list[LibrarianOut]:
    if librarian.role != "admin":
        raise HTTPException(403, "only an admin may list librarians")
    return [_librarian_out(session, lib) for lib in accounts.visible_librarians(session, librarian)]


@router.post("/librarians/{librarian_id}/{action}", response_model=LibrarianOut,
             summary="Disable (ending their sessions, revoking their tokens) or enable a librarian (admin)")
def set_librarian_active(session: DB, librarian: Me, librarian_id: str, action: Literal["disable", "enable"]) -> LibrarianOut:
    return _librarian_out(session, ok(accounts.set_active(session, librarian, librarian_id, action == "enable")))
