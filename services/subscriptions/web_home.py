"""The librarian's home page: what needs attention, and what went out this week.

Needs attention: failing feeds (ingest's health), active subscribers sent nothing for
HORIZON_SUBSCRIPTIONS_QUIET_WEEKS weeks, example papers that could not be found, urgent items that
reached nobody (unrouted.py) and full-text requests waiting (requests.py).
A first-run admin with no organisation is sent to make one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from services.subscriptions import accounts, history, requests, unrouted, usecases
from services.subscriptions.auth import organisation_ids
from services.subscriptions.context import ctx
from services.subscriptions.models import Librarian, now
from services.subscriptions.ports import fetch_sources
from services.subscriptions.web import LoginRequired, Web, page

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, web: Web) -> HTMLResponse:
    c = ctx(request)
    at = now()

    def load():
        with c.sessions() as session:
            me = session.get(Librarian, web.librarian_id)
            if me is None or not me.active:
                raise LoginRequired()
            mine = organisation_ids(session, me)
            return dict(
                me=me, organisations=accounts.visible_organisations(session, me),
                quiet=history.quiet_subscribers(session, mine, c.settings.quiet_weeks, at),
                unfound=usecases.papers_needing_attention(session, me),
                week=history.week_summary(session, mine, at),
                unrouted_waiting=unrouted.waiting_count(session, mine),
                requests_waiting=requests.waiting_count(session, mine),
            )

    values = await run_in_threadpool(load)
    sources, sources_error = await fetch_sources(c.ingest)
    failing = [s for s in sources if s.status == "failing"]
    return page(request, "home.html", web, failing=failing, sources_error=sources_error,
                source_count=len(sources), quiet_weeks=c.settings.quiet_weeks, **values)
