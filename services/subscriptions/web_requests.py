"""The librarian's queue of full-text requests (requests.py).

- GET /requests: the requests of the librarian's organisations, newest first (filter by status):
  who asked (name, role, e-mail), for what, where to find it (DOI, PubMed, the publisher's page),
  its status and note, and a form to move it on;
- POST /requests/{id}: set its status (new, supplied, closed) and note.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.subscriptions import requests
from services.subscriptions.access import Problem
from services.subscriptions.auth import organisation_ids
from services.subscriptions.web import DB, Form, Me, Web, page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/requests")
def requests_page(request: Request, session: DB, me: Me, web: Web, status: str = "", saved: str = "") -> HTMLResponse:
    rows = requests.queue(session, organisation_ids(session, me), status)
    shown = [(r, sub, requests.finders(r.item_id, r.url)) for r, sub in rows]
    return page(request, "requests.html", web, rows=shown, showing=status, statuses=requests.STATUSES, saved=saved)


@router.post("/requests/{request_id}")
def update_request(session: DB, me: Me, form: Form, request_id: int) -> Response:
    result = requests.update(session, request_id, str(form.get("status", ""))[:20], str(form.get("note", ""))[:2000],
                             organisation_ids(session, me))
    if isinstance(result, Problem):
        raise HTTPException(result.status, result.message)
    return redirect(f"/requests?saved={request_id}")
