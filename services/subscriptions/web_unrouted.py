"""The librarian's list of urgent items that matched nobody, and the form that sends one on.

- GET /unrouted: items waiting for the librarian's organisations (newest first), each with a
  form: the organisation, the subscribers to send it to (chosen from that organisation's active
  subscribers, filtered by a search), a note; and the items already sent on, by whom.
- POST /unrouted/route: sends it (unrouted.route): notify delivers it as urgent, "sent by your
  library team".
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.subscriptions import accounts, unrouted, usecases
from services.subscriptions.access import Problem
from services.subscriptions.auth import organisation_ids
from services.subscriptions.web import DB, Form, Me, Web, page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/unrouted")
def unrouted_page(request: Request, session: DB, me: Me, web: Web, q: str = "", sent: str = "") -> HTMLResponse:
    mine = organisation_ids(session, me)
    orgs = accounts.visible_organisations(session, me)
    people = usecases.list_subscribers(session, me, q=q, status="active", limit=200)
    return page(request, "unrouted.html", web, items=unrouted.waiting(session, mine), done=unrouted.routed(session, mine),
                organisations=orgs, people=people, q=q, sent=sent)


@router.post("/unrouted/route")
def route_item(session: DB, me: Me, form: Form) -> Response:
    chosen = [str(v) for v in form.getlist("subscriber_id")][:500]
    result = unrouted.route(
        session, str(form.get("item_id", ""))[:300], str(form.get("organisation_id", ""))[:36], chosen, me.email,
        organisation_ids(session, me), note=str(form.get("note", ""))[:300],
    )
    if isinstance(result, Problem):
        raise HTTPException(result.status, result.message)
    return redirect(f"/unrouted?sent={result.subscribers}")
