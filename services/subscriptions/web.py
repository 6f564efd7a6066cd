"""The librarian web UI: server-rendered pages (Jinja2, autoescaped), session login, CSRF on every form."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

from anyio import from_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from services.subscriptions import (accounts, choices, credentials, history, importing, links, sessions, usecases,
                                    vocabulary)
from services.subscriptions.access import Problem
from services.subscriptions.context import Context, ctx, db
from services.subscriptions.forms import errors_of, from_form, to_form
from services.subscriptions.models import Librarian, now
from services.subscriptions.ports import fetch_sources
from services.subscriptions.schemas import SubscriberCreate, SubscriberUpdate
from services.subscriptions.sessions import WebSession
from services.subscriptions.websession import CSRF_FIELD, same_token

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(db)]


class LoginRequired(Exception):
    """Raised by the page dependency; the app answers with a redirect to /login."""


def web_session(request: Request) -> WebSession:
    """The request's live session (held on the server); otherwise to the log-in page."""
    c = ctx(request)
    cookie = c.cookies.session_cookie(request)
    if cookie is None:
        raise LoginRequired()
    with c.sessions() as db:
        session = sessions.current(db, cookie, now(), c.settings.session_idle_s, c.settings.session_max_age_s)
    if session is None:
        raise LoginRequired()
    return session


def librarian(request: Request, session: DB, web: Annotated[WebSession, Depends(web_session)]) -> Librarian:
    lib = session.get(Librarian, web.librarian_id)
    if lib is None or not lib.active:
        raise LoginRequired()
    return lib


async def checked_form(request: Request, web: Annotated[WebSession, Depends(web_session)]) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    if not same_token(web.csrf, form.get(CSRF_FIELD)):
        raise HTTPException(403, "the form's security token is missing or wrong: reload the page and try again")
    return form


Me = Annotated[Librarian, Depends(librarian)]
Web = Annotated[WebSession, Depends(web_session)]
Form = Annotated[FormData, Depends(checked_form)]


def page(request: Request, name: str, web: WebSession | None, status: int = 200, **values: Any) -> HTMLResponse:
    c: Context = ctx(request)
    csrf = web.csrf if web else c.cookies.anonymous_csrf(request)
    response = c.templates.TemplateResponse(
        request, name, {"csrf": csrf, "logged_in": web is not None, "admin": bool(web and web.admin), **values},
        status_code=status)
    if web is None:
        c.cookies.keep_csrf(response, csrf)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return page(request, "login.html", None)


@router.post("/login")
async def login(request: Request) -> Response:
    c = ctx(request)
    form = await request.form()
    if not c.cookies.anonymous_csrf_valid(request, form.get(CSRF_FIELD)):
        raise HTTPException(403, "the form's security token is missing or wrong: reload the page and try again")
    email, password = str(form.get("email", ""))[:320], str(form.get("password", ""))[:1000]
    address = request.client.host if request.client else ""

    def check() -> credentials.Refused | str:
        with c.sessions() as db:
            outcome = credentials.log_in(db, email, password, address, c.settings.throttle_policy, now())
            if isinstance(outcome, credentials.Refused):
                return outcome
            sessions.purge(db, now(), c.settings.session_idle_s, c.settings.session_max_age_s)
            return sessions.start(db, outcome, now())[0]

    outcome = await run_in_threadpool(check)
    if isinstance(outcome, credentials.Refused):
        response = page(request, "login.html", None, status=outcome.status, error=outcome.message, email=email)
        if outcome.retry_after_s:
            response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    response = redirect("/")
    c.cookies.start(response, outcome)
    return response


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    c = ctx(request)
    cookie = c.cookies.session_cookie(request)
    if cookie:
        with c.sessions() as db:
            sessions.end(db, cookie)
    response = redirect("/login")
    c.cookies.end(response)
    return response


@router.get("/subscribers")
def subscribers(request: Request, session: DB, me: Me, web: Web, q: str = "", organisation_id: str = "") -> HTMLResponse:
    subs = usecases.list_subscribers(session, me, q[:200], organisation_id or None, limit=200)
    last = history.last_sent(session, [s.id for s in subs])
    since = now() - timedelta(weeks=ctx(request).settings.quiet_weeks)
    quiet = {s.id for s in subs if s.status == "active" and (last.get(s.id) or history.aware(s.created_at)) < since}
    return page(request, "subscribers.html", web, subscribers=[usecases.public(session, s) for s in subs], q=q,
                last_sent=last, quiet=quiet,
                organisation_id=organisation_id, organisations=accounts.visible_organisations(session, me),
                unfound=usecases.papers_needing_attention(session, me))


def _sources(request: Request) -> tuple[list, str | None]:
    """ingest's sources, from a sync handler's worker thread."""
    return from_thread.run(fetch_sources, ctx(request).ingest)


def _form_page(request, session, me, web, values, errors=None, sub=None, status=200, saved=False):
    sources, sources_error = _sources(request)
    chosen = {k: list(values.get(k) or []) for k in choices.CHOSEN}
    for key in choices.CHOSEN:  # the form shows lists; a re-shown form may carry them as text
        if isinstance(values.get(key), str):
            chosen[key] = [v for v in values[key].split("\n") if v]
    return page(request, "subscriber_form.html", web, status=status, values=to_form(values), errors=errors or {},
                sub=sub, saved=saved, organisations=accounts.visible_organisations(session, me), chosen=chosen,
                topic_groups=vocabulary.grouped_topics(), type_labels=vocabulary.TYPE_LABELS,
                topic_ids={t.id for t in vocabulary.topics()}, sources=sources, sources_error=sources_error,
                item_titles=history.titles_of(session, sub.id, set(sub.liked) | set(sub.disliked)) if sub else {})


def _values_of(request: Request, form: FormData) -> tuple[dict, dict[str, str]]:
    """The form's subscriber fields, topics, content types and sources by id; errors of names unknown."""
    values = from_form(form)
    sources, sources_error = _sources(request)
    chosen, errors = choices.resolve(form, None if sources_error else sources)
    values.update(chosen)
    return values, errors


def _problem_errors(problem: Problem) -> dict[str, str]:
    if "organisation_id is required" in problem.message:
        return {"organisation_id": "Choose the organisation this subscriber belongs to."}
    if "e-mail already exists" in problem.message:
        return {"email": "Someone in this organisation already has that e-mail address."}
    return {"form": problem.message[0].upper() + problem.message[1:] + "."}


@router.get("/subscribers/new")
def new_subscriber(request: Request, session: DB, me: Me, web: Web) -> HTMLResponse:
    return _form_page(request, session, me, web, {"frequency": "weekly", "weekday": "monday", "hour": 7,
                                                  "urgent_alerts": True})


@router.post("/subscribers/new")
def create_subscriber(request: Request, session: DB, me: Me, web: Web, form: Form) -> Response:
    values, errors = _values_of(request, form)
    values.pop("status", None)
    try:
        data = SubscriberCreate.model_validate(values)
    except ValidationError as exc:
        return _form_page(request, session, me, web, values, {**errors_of(exc), **errors}, status=422)
    if errors:
        return _form_page(request, session, me, web, values, errors, status=422)
    result = usecases.create_subscriber(session, me, data)
    if isinstance(result, Problem):
        return _form_page(request, session, me, web, values, _problem_errors(result), status=result.status)
    return redirect(f"/subscribers/{result.id}?saved=1")


def visible(session: Session, me: Librarian, subscriber_id: str):
    sub = usecases.get_subscriber(session, me, subscriber_id)
    if sub is None:
        raise HTTPException(404, "subscriber not found")
    return sub


@router.get("/subscribers/{subscriber_id}")
def edit_subscriber(request: Request, session: DB, me: Me, web: Web, subscriber_id: str, saved: str = "") -> HTMLResponse:
    pub = usecases.public(session, visible(session, me, subscriber_id))
    return _form_page(request, session, me, web, pub.model_dump(), sub=pub, saved=bool(saved))


@router.post("/subscribers/{subscriber_id}")
def save_subscriber(request: Request, session: DB, me: Me, web: Web, form: Form, subscriber_id: str) -> Response:
    pub = usecases.public(session, visible(session, me, subscriber_id))
    values, errors = _values_of(request, form)
    values.pop("organisation_id", None)
    try:
        data = SubscriberUpdate.model_validate(values)
    except ValidationError as exc:
        return _form_page(request, session, me, web, {**pub.model_dump(), **values}, {**errors_of(exc), **errors}, pub,
                          status=422)
    if errors:
        return _form_page(request, session, me, web, {**pub.model_dump(), **values}, errors, pub, status=422)
    result = usecases.update_subscriber(session, me, subscriber_id, data)
    if isinstance(result, Problem):
        return _form_page(request, session, me, web, {**pub.model_dump(), **values}, _problem_errors(result), pub,
                          status=result.status)
    return redirect(f"/subscribers/{subscriber_id}?saved=1")


@router.post("/subscribers/{subscriber_id}/forget-feedback")
def forget_feedback(session: DB, me: Me, form: Form, subscriber_id: str) -> Response:
    result = usecases.forget_feedback(session, me, subscriber_id)
    if isinstance(result, Problem):
        raise HTTPException(result.status, result.message)
    return redirect(f"/subscribers/{subscriber_id}?saved=1")


@router.get("/subscribers/{subscriber_id}/delete")
def confirm_delete(request: Request, session: DB, me: Me, web: Web, subscriber_id: str) -> HTMLResponse:
    pub = usecases.public(session, visible(session, me, subscriber_id))
    return page(request, "confirm_delete.html", web, sub=pub)


@router.post("/subscribers/{subscriber_id}/delete")
def delete_subscriber(session: DB, me: Me, form: Form, subscriber_id: str) -> Response:
    result = usecases.delete_subscriber(session, me, subscriber_id)
    if isinstance(result, Problem):
        raise HTTPException(result.status, result.message)
    return redirect("/subscribers")


@router.get("/import")
def import_page(request: Request, session: DB, me: Me, web: Web) -> HTMLResponse:
    return page(request, "import.html", web, organisations=accounts.visible_organisations(session, me))


@router.post("/import")
async def import_upload(request: Request, web: Web, form: Form) -> HTMLResponse:
    c = ctx(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, "choose a file to import")
    data = await upload.read(importing.MAX_FILE_BYTES + 1)
    fmt = "csv" if (upload.filename or "").lower().endswith(".csv") else "yaml"
    org_id = str(form.get("organisation_id") or "") or None

    def run():
        with c.sessions() as session:
            lib = session.get(Librarian, web.librarian_id)
            if lib is None or not lib.active:
                raise LoginRequired()
            report = importing.import_subscribers(session, data, fmt, org_id, lib)
            return report, accounts.visible_organisations(session, lib)

    report, orgs = await run_in_threadpool(run)
    status = 200 if report.created + report.updated + report.unchanged or not report.errors else 422
    return page(request, "import.html", web, status=status, report=report, organisations=orgs)


@router.get("/export")
def export(session: DB, me: Me, organisation_id: str, format: str = "yaml") -> Response:
    data = importing.export_subscribers(session, organisation_id, format, me)
    if isinstance(data, Problem):
        raise HTTPException(data.status, data.message)
    media = "text/csv" if format == "csv" else "application/yaml"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="subscribers.{format}"'})


@router.get("/subscribers/{subscriber_id}/links")
def subscriber_links(request: Request, session: DB, me: Me, web: Web, subscriber_id: str) -> HTMLResponse:
    pub = usecases.public(session, visible(session, me, subscriber_id))
    c = ctx(request)
    return page(request, "links.html", web, sub=pub,
                links=links.links_for(c.secret, c.settings.public_base_url, subscriber_id))
