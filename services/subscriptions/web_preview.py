"""The preview page: what a subscriber would have received, laid out as the e-mail (digest_view.py),
for the last 7, 30 or 90 days; posted from the profile form, the unsaved changes beside the saved
profile (nothing saved until "Save these changes")."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from services.subscriptions import choices, digest_view, usecases
from services.subscriptions.context import Context, ctx
from services.subscriptions.forms import errors_of, from_form
from services.subscriptions.models import Librarian
from services.subscriptions.ports import fetch_preview, fetch_sources
from services.subscriptions.schemas import SubscriberUpdate
from services.subscriptions.sessions import WebSession
from services.subscriptions.web import Form, Web, page
from services.subscriptions.websession import CSRF_FIELD

router = APIRouter(include_in_schema=False)


PREVIEW_DAYS = {7: "last week", 30: "last 30 days", 90: "last 90 days"}


def _loaded(c: Context, web: WebSession, subscriber_id: str, form: FormData | None = None, sources=None):
    """The subscriber, their saved profile, and (given a form) the draft profile it describes or its errors."""
    with c.sessions() as session:
        lib = session.get(Librarian, web.librarian_id)
        sub = usecases.get_subscriber(session, lib, subscriber_id) if lib and lib.active else None
        if sub is None:
            return None
        saved = usecases.current_profile_event(session, sub).profile
        draft, errors = None, {}
        if form is not None:
            values = from_form(form)
            chosen, errors = choices.resolve(form, sources)
            values.update(chosen)
            for key in ("organisation_id", "status", "board_briefing"):
                values.pop(key, None)
            try:
                data = SubscriberUpdate.model_validate(values)
            except ValidationError as exc:
                errors = {**errors_of(exc), **errors}
            else:
                draft = usecases.draft_profile(session, sub, data)
        return usecases.public(session, sub), saved, draft, errors


async def _preview_page(request: Request, web: WebSession, subscriber_id: str, days: int, form: FormData | None):
    c = ctx(request)
    sources = None
    if form is not None:
        listed, error = await fetch_sources(c.ingest)
        sources = None if error else listed
    loaded = await run_in_threadpool(_loaded, c, web, subscriber_id, form, sources)
    if loaded is None:
        raise HTTPException(404, "subscriber not found")
    pub, saved, draft, errors = loaded
    days = days if days in PREVIEW_DAYS else 7
    items, error = await fetch_preview(c.classify, saved, days)
    draft_items, draft_error = (await fetch_preview(c.classify, draft, days)) if draft is not None else ([], None)
    return page(request, "preview.html", web, status=422 if errors else 200, sub=pub, days=days,
                periods=PREVIEW_DAYS, saved=digest_view.view(items, saved), error=error, errors=errors,
                draft=digest_view.view(draft_items, draft) if draft is not None else None, draft_error=draft_error,
                form_values=[(k, str(v)) for k, v in (form.multi_items() if form else []) if k != CSRF_FIELD])


@router.get("/subscribers/{subscriber_id}/preview")
async def preview(request: Request, web: Web, subscriber_id: str, days: int = 7) -> HTMLResponse:
    return await _preview_page(request, web, subscriber_id, days, None)


@router.post("/subscribers/{subscriber_id}/preview")
async def preview_draft(request: Request, web: Web, form: Form, subscriber_id: str, days: int = 7) -> HTMLResponse:
    """The profile as edited in the form, unsaved, beside the saved one."""
    return await _preview_page(request, web, subscriber_id, days, form)
