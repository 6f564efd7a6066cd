"""The REST API for librarians (/api): bearer tokens, every read and write limited to the caller's organisations.

Another organisation's subscriber answers 404, exactly like one that does not exist. Logging in,
tokens, passwords and librarians are in api_account.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from services.subscriptions import accounts, auth, engagement, importing, links, usecases
from services.subscriptions.access import Problem
from services.subscriptions.context import ctx, db
from services.subscriptions.models import Librarian
from services.subscriptions.ports import PreviewItem, SourceHealth, fetch_preview, fetch_sources
from services.subscriptions.schemas import ImportReport, Name, SubscriberCreate, SubscriberPublic, SubscriberUpdate, UnfoundPaper

router = APIRouter(prefix="/api", tags=["api"])
#: The furthest a page may start: far past any organisation's subscribers, well inside the
#: 64-bit integers SQLite and PostgreSQL take for OFFSET (past them a query failed with a 500).
MAX_OFFSET = 10_000_000
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


class OrganisationIn(BaseModel):
    name: Name


class OrganisationOut(BaseModel):
    id: str
    name: str


class BoardRecipients(BaseModel):
    subscriber_ids: list[str]


@router.get("/organisations", response_model=list[OrganisationOut])
def organisations(session: DB, librarian: Me) -> list[OrganisationOut]:
    return [OrganisationOut(id=o.id, name=o.name) for o in accounts.visible_organisations(session, librarian)]


@router.post("/organisations", response_model=OrganisationOut, status_code=201, summary="Create an organisation (admin)")
def create_organisation(session: DB, librarian: Me, body: OrganisationIn) -> OrganisationOut:
    if librarian.role != "admin":
        raise HTTPException(403, "only an admin may create an organisation")
    org = ok(accounts.ensure_organisation(session, body.name, librarian))
    return OrganisationOut(id=org.id, name=org.name)


@router.get("/subscribers", response_model=list[SubscriberPublic])
def list_subscribers(
    session: DB, librarian: Me, q: str = Query("", max_length=200), organisation_id: str | None = None,
    status: Literal["active", "unsubscribed"] | None = None,
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=MAX_OFFSET),
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
