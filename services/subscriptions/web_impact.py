"""Impact: reach, e-mails, opens, verdicts and full-text requests over a date range, per
organisation, subscriber, source or topic, a weekly trend drawn as an inline SVG, and the same
figures as CSV. Counted from the delivery and feedback logs (history.py); the all-time counts
per organisation (engagement.py) are shown beside them."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, time, timedelta, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from services.subscriptions import accounts, engagement, history, vocabulary
from services.subscriptions.auth import organisation_ids
from services.subscriptions.context import ctx
from services.subscriptions.models import Librarian, Subscriber
from services.subscriptions.ports import fetch_sources, ingest_call
from services.subscriptions.web import LoginRequired, Web, page, redirect

router = APIRouter(include_in_schema=False)
GROUPINGS = {"organisation": "Organisation", "subscriber": "Subscriber", "source": "Source", "topic": "Topic"}
COLUMNS = [("reach", "People reached"), ("deliveries", "E-mails"), ("items", "Items sent"), ("click", "Opened"),
           ("useful", "Useful"), ("not_relevant", "Not relevant"), ("full_text_request", "Full texts requested")]


def _day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return default


def _range(start: str, end: str) -> tuple[date, date]:
    today = datetime.now(timezone.utc).date()
    last = _day(end, today)
    first = _day(start, last - timedelta(days=89))
    return (first, last) if first <= last else (last, first)


async def _item_sources(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """item id -> source name for the last 30 days' items of every source (ingest keeps no more
    per source), and source id -> name."""
    port = ctx(request).ingest
    sources, error = await fetch_sources(port)
    if error:
        return {}, {}
    answers = await asyncio.gather(*(ingest_call(port, "GET", f"/sources/{s.source_id}/recent") for s in sources[:200]))
    out: dict[str, str] = {}
    for s, (found, _) in zip(sources, answers):
        for item_id in (found or {}).get("item_ids", []) if isinstance(found, dict) else []:
            out.setdefault(item_id, s.name)
    return out, {s.source_id: s.name for s in sources}


def _report(session: Session, me_id: str, first: date, last: date, by: str, item_sources: dict[str, str]):
    me = session.get(Librarian, me_id)
    if me is None or not me.active:
        raise LoginRequired()
    mine = organisation_ids(session, me)
    start = datetime.combine(first, time.min, timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, timezone.utc)
    groups, total = history.impact(session, mine, start, end, by, item_sources)
    orgs = accounts.visible_organisations(session, me)
    if by == "organisation":
        names = {o.id: o.name for o in orgs}
        for org_id in names:
            groups.setdefault(org_id, history.Figures())
    elif by == "subscriber":
        ids = list(groups)
        names = {s.id: s.name for s in session.exec(select(Subscriber).where(Subscriber.id.in_(ids))).all()}  # type: ignore[attr-defined]
    elif by == "topic":
        names = {k: vocabulary.topic_label(k) for k in groups}
    else:
        names = {k: k for k in groups}
    rows = sorted(((names.get(k, "(erased subscriber)" if by == "subscriber" else k), f) for k, f in groups.items()),
                  key=lambda r: (-r[1].deliveries, r[0].lower()))
    trend = history.weekly_trend(session, mine, start, end)
    all_time = [(o, engagement.engagement_for(session, o.id)) for o in orgs]
    return rows, total["all"], trend, all_time


def chart(trend: list[tuple[datetime, int, int]], width: int = 640, height: int = 200) -> dict:
    """Points of two polylines (e-mails, opens) per week, scaled into a width x height box."""
    top = max([1] + [max(s, c) for _, s, c in trend])
    step = (width - 40) / max(1, len(trend) - 1)

    def points(index: int) -> str:
        return " ".join(f"{20 + i * step:.1f},{height - 20 - (row[index] / top) * (height - 40):.1f}"
                        for i, row in enumerate(trend))

    return {"width": width, "height": height, "top": top, "sent": points(1), "opened": points(2),
            "first": trend[0][0].strftime("%d %b") if trend else "", "last": trend[-1][0].strftime("%d %b") if trend else ""}


@router.get("/engagement")
def old_engagement() -> Response:
    return redirect("/impact")


async def _load(request: Request, web: Web, start: str, end: str, by: str):  # type: ignore[no-untyped-def]
    """The report for a date range and grouping: (first, last, by, (rows, total, trend, all_time))."""
    first, last = _range(start, end)
    by = by if by in GROUPINGS else "organisation"
    item_sources, _ = await _item_sources(request) if by == "source" else ({}, {})
    c = ctx(request)

    def load():
        with c.sessions() as session:
            return _report(session, web.librarian_id, first, last, by, item_sources)

    return first, last, by, await run_in_threadpool(load)


@router.get("/impact")
async def impact(request: Request, web: Web, start: str = "", end: str = "", by: str = "organisation") -> HTMLResponse:
    first, last, by, (rows, total, trend, all_time) = await _load(request, web, start, end, by)
    return page(request, "impact.html", web, rows=rows, total=total, trend=trend, chart=chart(trend), all_time=all_time,
                start=first.isoformat(), end=last.isoformat(), by=by,
                period=f"{first.day} {first:%b %Y} to {last.day} {last:%b %Y}", groupings=GROUPINGS, columns=COLUMNS)


@router.get("/impact.csv")
async def impact_csv(request: Request, web: Web, start: str = "", end: str = "", by: str = "organisation") -> Response:
    first, last, by, (rows, total, _, _) = await _load(request, web, start, end, by)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["from", "to", GROUPINGS[by].lower(), *[k for k, _ in COLUMNS]])
    for name, f in [*rows, ("All", total)]:
        # a leading =, +, - or @ would be a formula in a spreadsheet: names come from librarians and feeds
        safe = "'" + name if name[:1] in ("=", "+", "-", "@") else name
        writer.writerow([first.isoformat(), last.isoformat(), safe, *[getattr(f, k) for k, _ in COLUMNS]])
    filename = f"horizon-impact-{by}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
