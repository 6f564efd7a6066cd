"""The REST API for librarians (/api): bearer tokens, every read and write limited to the caller's organisations.

Another organisation's subscriber answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from services.subscriptions import accounts, auth, credentials, engagement, importing, links, usecases
from services.subscriptions.access import Problem
from services.subscriptions.context import ctx, db
from services.subscriptions.models import Librarian, now
from services.subscriptions.ports import PreviewItem, SourceHealth, fetch_preview, fetch_sources
from services.subscriptions.schemas import Email, ImportReport, Name, Text, SubscriberCreate, SubscriberPublic, SubscriberUpdate, UnfoundPaper

router = APIRouter(prefix="/api", tags=["api"])
_bearer = HTTPBearer(auto_error=False, description="An API token from POST /api/auth/token")
DB = Annotated[Session, Depends(db)]


def current_librarian(session: DB, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Librarian:
    librarian = auth.librarian_for_token(session, creds.credentials) if creds else None
    if librarian is None:
        raise HTTPException(401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"})
    return librarian


Me = Annotated[Librarian, Depends(current_librarian)]


def ok(result):
    if isinstance(result, Problem):
        raise HTTPException(result.status, result.message)
    return result


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


class OrganisationIn(BaseModel):
    name: Name


class OrganisationOut(BaseModel):
    id: str
    name: str


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


class BoardRecipients(BaseModel):
    subscriber_ids: list[str]


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


@router.get("/organisations", response_model=list[OrganisationOut])
def organisations(session: DB, librarian: Me) -> list[OrganisationOut]:
    return [OrganisationOut(id=o.id, name=o.name) for o in accounts.visible_organisations(session, librarian)]


@router.post("/organisations", response_model=OrganisationOut, status_code=201, summary="Create an organisation (admin)")
def create_organisation(session: DB, librarian: Me, body: OrganisationIn) -> OrganisationOut:
    if librarian.role != "admin":
        raise HTTPException(403, "only an admin may create an organisation")
    org = ok(accounts.ensure_organisation(session, body.name, librarian))
    return OrganisationOut(id=org.id, name=org.name)


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


@router.get("/subscribers", response_model=list[SubscriberPublic])
def list_subscribers(
    session: DB, librarian: Me, q: str = Query("", max_length=200), organisation_id: str | None = None,
    status: Literal["active", "unsubscribed"] | None = None,
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
) -> list[SubscriberPublic]:
    subs = usecases.list_subscribers(session, librarian, q, organisation_id, status, limit, offset)
    return [usecases.public(session, s) for s in subs]


@router.post("/subscribers", response_model=SubscriberPublic, status_code=201)
def create_subscriber(session: DB, librarian: Me, body: SubscriberCreate) -> SubscriberPublic:
    return usecases.public(session, ok(usecases.create_subscriber(session, librarian, body)))


@router.get("/subscribers/{subscriber_id}", response_model=SubscriberPublic)
def get_subscriber(session: DB, librarian: Me, subscriber_id: str) -> SubscriberPublic:
    sub = usecases.get_subscriber(session, librarian, subscriber_id)
    if sub is None:
        raise HTTPException(404, "subscriber not found")
    return usecases.public(session, sub)


@router.patch("/subscribers/{subscriber_id}", response_model=SubscriberPublic)
def update_subscriber(session: DB, librarian: Me, subscriber_id: str, body: SubscriberUpdate) -> SubscriberPublic:
    return usecases.public(session, ok(usecases.update_subscriber(session, librarian, subscriber_id, body)))


@router.get("/example-papers/unfound", response_model=list[UnfoundPaper],
            summary="Example papers that could not be found, and who names them")
def unfound_papers(session: DB, librarian: Me) -> list[UnfoundPaper]:
    return usecases.papers_needing_attention(session, librarian)


@router.post("/subscribers/{subscriber_id}/feedback/forget", response_model=SubscriberPublic,
             summary="Clear what the profile learnt from the subscriber's feedback")
def forget_feedback(session: DB, librarian: Me, subscriber_id: str) -> SubscriberPublic:
    return usecases.public(session, ok(usecases.forget_feedback(session, librarian, subscriber_id)))


@router.delete("/subscribers/{subscriber_id}", status_code=204, summary="Erase a subscriber (tombstone to every service)")
def delete_subscriber(session: DB, librarian: Me, subscriber_id: str) -> Response:
    ok(usecases.delete_subscriber(session, librarian, subscriber_id))
    return Response(status_code=204)


@router.get("/subscribers/{subscriber_id}/links", summary="The subscriber's self-service links")
def self_service_links(request: Request, session: DB, librarian: Me, subscriber_id: str) -> dict[str, str]:
    if usecases.get_subscriber(session, librarian, subscriber_id) is None:
        raise HTTPException(404, "subscriber not found")
    c = ctx(request)
    return links.links_for(c.secret, c.settings.public_base_url, subscriber_id)


@router.post("/subscribers/{subscriber_id}/preview", response_model=list[PreviewItem],
             summary="What the subscriber would have received in the last days (from classify)")
async def preview(request: Request, subscriber_id: str, librarian: Me, days: int = Query(7, ge=1, le=90)) -> list[PreviewItem]:
    c = ctx(request)

    def load():
        with c.sessions() as session:
            sub = usecases.get_subscriber(session, librarian, subscriber_id)
            return None if sub is None else usecases.current_profile_event(session, sub).profile

    profile = await run_in_threadpool(load)
    if profile is None:
        raise HTTPException(404, "subscriber not found")
    items, error = await fetch_preview(c.classify, profile, days)
    if error:
        raise HTTPException(502, error)
    return items


@router.get("/organisations/{organisation_id}/board-recipients", response_model=BoardRecipients)
def get_board(session: DB, librarian: Me, organisation_id: str) -> BoardRecipients:
    org_id = ok(usecases.resolve_organisation(session, librarian, organisation_id))
    return BoardRecipients(subscriber_ids=usecases.board_recipients(session, org_id))


@router.put("/organisations/{organisation_id}/board-recipients", response_model=BoardRecipients)
def put_board(session: DB, librarian: Me, organisation_id: str, body: BoardRecipients) -> BoardRecipients:
    return BoardRecipients(subscriber_ids=ok(usecases.set_board_recipients(session, librarian, organisation_id, body.subscriber_ids)))


@router.get("/organisations/{organisation_id}/engagement", response_model=engagement.EngagementPublic)
def get_engagement(session: DB, librarian: Me, organisation_id: str) -> engagement.EngagementPublic:
    org_id = ok(usecases.resolve_organisation(session, librarian, organisation_id))
    return engagement.engagement_for(session, org_id)


@router.post("/import", response_model=ImportReport, summary="Bulk import a subscribers file (YAML or CSV body)")
def import_file(
    session: DB, librarian: Me, data: Annotated[bytes, Body(media_type="application/octet-stream")],
    format: Literal["yaml", "csv"] = "yaml", organisation_id: str | None = None,
) -> ImportReport:
    return importing.import_subscribers(session, data, format, organisation_id, librarian)


@router.get("/export", summary="Export an organisation's active subscribers as a subscribers file")
def export_file(session: DB, librarian: Me, organisation_id: str, format: Literal["yaml", "csv"] = "yaml") -> Response:
    data = ok(importing.export_subscribers(session, organisation_id, format, librarian))
    media = "text/csv" if format == "csv" else "application/yaml"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="subscribers.{format}"'})


@router.get("/sources", response_model=list[SourceHealth], summary="Sources and their health (from ingest)")
async def sources(request: Request, librarian: Me) -> list[SourceHealth]:
    items, error = await fetch_sources(ctx(request).ingest)
    if error:
        raise HTTPException(502, error)
    return items
