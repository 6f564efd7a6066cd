"""Sources in the librarian UI, through ingest's API (called server-side with this service's key).

- /sources: every feed with its health in plain English, items in the last 30 days; OPML in and out;
- /sources/new: a feed's address, fetched once as a preview (title, entries, newest item), then added;
- /sources/{id}: its health (last success, last error and what it means, next attempt), how many of
  its last 30 days' items went out to anyone in the librarian's organisations; edit, pause, resume;
- /sources/{id}/delete: a confirmation page, then the source is removed (admins only: every
  organisation's subscribers may be reading it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from services.subscriptions.plain import feed_error
from services.subscriptions.auth import organisation_ids
from services.subscriptions.context import ctx
from services.subscriptions.models import DeliveryLog, Librarian
from services.subscriptions.ports import SourceHealth, fetch_sources, ingest_call
from services.subscriptions.web import Form, LoginRequired, Me, Web, page, redirect

router = APIRouter(include_in_schema=False)
MAX_OPML_BYTES = 2 * 1024 * 1024
#: ingest's content types, as a librarian names them
SOURCE_TYPES = {"journal_article": "Journal articles", "guideline": "Guidelines", "policy": "Policy",
                "report": "Reports", "news": "News", "safety_alert": "Safety alerts", "other": "Other"}
INTERVALS = {3600: "Every hour", 6 * 3600: "Every 6 hours", 86400: "Once a day", 7 * 86400: "Once a week"}


def _page(request: Request, name: str, web, status: int = 200, **values: Any) -> HTMLResponse:
    return page(request, name, web, status=status, source_types=SOURCE_TYPES, intervals=INTERVALS, **values)


@router.get("/sources")
async def sources(request: Request, me: Me, web: Web, done: str = "", added: int = 0, skipped: int = 0,
                  invalid: int = 0) -> HTMLResponse:
    items, error = await fetch_sources(ctx(request).ingest)
    notice = {"deleted": "The source is deleted.",
              "opml": f"OPML read: {added} added, {skipped} already there, {invalid} refused."}.get(done, "")
    return _page(request, "sources.html", web, sources=sorted(items, key=lambda s: s.name.lower()), error=error,
                 done=notice)


@router.get("/sources/new")
def new_source(request: Request, me: Me, web: Web) -> HTMLResponse:
    return _page(request, "source_new.html", web, values={}, errors={})


@router.post("/sources/new")
async def add_source(request: Request, me: Me, web: Web, form: Form) -> Response:
    port = ctx(request).ingest
    url = str(form.get("url", "")).strip()[:2000]
    values = {"url": url, "title": str(form.get("title", "")).strip()[:300],
              "content_type": str(form.get("content_type", "journal_article")),
              "poll_interval_s": str(form.get("poll_interval_s", "3600"))}
    if not url:
        return _page(request, "source_new.html", web, 422, values=values, errors={"url": "Enter the feed's address."})
    if "://" not in url:
        url = values["url"] = "https://" + url
    if form.get("action") != "add":
        found, error = await ingest_call(port, "POST", "/sources/preview", json={"url": url})
        if error:
            return _page(request, "source_new.html", web, 502, values=values, errors={"url": error})
        if not found.get("ok"):
            meaning = _feed_problem(found)
            return _page(request, "source_new.html", web, 422, values=values, errors={"url": meaning})
        values["title"] = values["title"] or found.get("title", "")
        return _page(request, "source_new.html", web, values=values, errors={}, preview=found)
    body = {"url": url, "title": values["title"], "content_type": values["content_type"]}
    if values["poll_interval_s"].isdigit():
        body["poll_interval_s"] = int(values["poll_interval_s"])
    added, error = await ingest_call(port, "POST", "/sources", json=body)
    if error:
        return _page(request, "source_new.html", web, 422, values=values, errors={"url": _sentence(error)})
    return redirect(f"/sources/{added['id']}?done=added")


def _feed_problem(found: dict) -> str:
    kind, message = found.get("error_kind") or "", found.get("error_message") or ""
    return _sentence(feed_error(f"{kind}: {message}" if kind else message) or "The feed could not be read")


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:]).rstrip(".") + "." if text else text


@router.get("/sources.opml")
async def download_opml(request: Request, me: Me) -> Response:
    text, error = await ingest_call(ctx(request).ingest, "GET", "/sources/opml")
    if error:
        raise HTTPException(502, error)
    return Response(text, media_type="text/x-opml",
                    headers={"Content-Disposition": 'attachment; filename="horizon-sources.opml"'})


@router.post("/sources/opml")
async def upload_opml(request: Request, me: Me, web: Web, form: Form) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return await _sources_problem(request, web, "Choose an OPML file to upload.")
    data = await upload.read(MAX_OPML_BYTES + 1)
    if len(data) > MAX_OPML_BYTES:
        return await _sources_problem(request, web, "The OPML file is larger than 2 MiB.")
    report, error = await ingest_call(ctx(request).ingest, "POST", "/sources/opml", content=data,
                                      headers={"Content-Type": "text/x-opml"})
    if error:
        return await _sources_problem(request, web, f"The OPML file could not be read: {error}.")
    counts = {k: len(report.get(k, [])) for k in ("added", "skipped", "invalid")}
    return redirect(f"/sources?done=opml&added={counts['added']}&skipped={counts['skipped']}&invalid={counts['invalid']}")


async def _source(request: Request, source_id: str) -> SourceHealth:
    found, error = await ingest_call(ctx(request).ingest, "GET", f"/sources/{source_id}")
    if error or not isinstance(found, dict):
        raise HTTPException(404 if error and "no such source" in error else 502, error or "no such source")
    return SourceHealth.model_validate(found)


@router.get("/sources/{source_id}")
async def source(request: Request, web: Web, source_id: str, done: str = "") -> HTMLResponse:
    c = ctx(request)
    src = await _source(request, source_id)
    recent, recent_error = await ingest_call(c.ingest, "GET", f"/sources/{source_id}/recent")
    item_ids = set((recent or {}).get("item_ids", [])) if isinstance(recent, dict) else set()

    def delivered() -> int:
        with c.sessions() as session:
            me = session.get(Librarian, web.librarian_id)
            if me is None or not me.active:
                raise LoginRequired()
            mine = organisation_ids(session, me)
            if not item_ids or not mine:
                return 0
            sent: set[str] = set()
            for ids in session.exec(select(DeliveryLog.item_ids).where(DeliveryLog.organisation_id.in_(mine))).all():  # type: ignore[attr-defined]
                sent.update(i for i in ids if i in item_ids)
            return len(sent)

    return _page(request, "source.html", web, src=src, done=done[:40], recent=len(item_ids),
                 recent_error=recent_error, delivered=await run_in_threadpool(delivered), errors={})


@router.post("/sources/{source_id}")
async def edit_source(request: Request, me: Me, web: Web, form: Form, source_id: str) -> Response:
    action = str(form.get("action", "save"))
    if action in ("pause", "resume"):
        change: dict[str, Any] = {"enabled": action == "resume"}
    else:
        change = {"title": str(form.get("title", "")).strip()[:300], "publisher": str(form.get("publisher", "")).strip()[:300],
                  "content_type": str(form.get("content_type", "journal_article"))}
        interval = str(form.get("poll_interval_s", ""))
        if interval.isdigit():
            change["poll_interval_s"] = int(interval)
    _, error = await ingest_call(ctx(request).ingest, "PATCH", f"/sources/{source_id}", json=change)
    if error:
        src = await _source(request, source_id)
        return _page(request, "source.html", web, 422, src=src, done="", recent=0, recent_error=None, delivered=0,
                     errors={"form": _sentence(error)})
    return redirect(f"/sources/{source_id}?done={'paused' if action == 'pause' else 'resumed' if action == 'resume' else 'saved'}")


def _admin(me: Librarian) -> None:
    if me.role != "admin":
        raise HTTPException(403, "only an admin may delete a source: every organisation's subscribers may be reading it")


@router.get("/sources/{source_id}/delete")
async def confirm_delete_source(request: Request, me: Me, web: Web, source_id: str) -> HTMLResponse:
    _admin(me)
    return _page(request, "source_delete.html", web, src=await _source(request, source_id))


@router.post("/sources/{source_id}/delete")
async def delete_source(request: Request, me: Me, web: Web, form: Form, source_id: str) -> Response:
    _admin(me)
    _, error = await ingest_call(ctx(request).ingest, "DELETE", f"/sources/{source_id}")
    if error:
        raise HTTPException(502, error)
    return redirect("/sources?done=deleted")


async def _sources_problem(request: Request, web, message: str) -> HTMLResponse:
    items, error = await fetch_sources(ctx(request).ingest)
    return _page(request, "sources.html", web, 422, sources=items, error=error, done="", opml_error=message)
