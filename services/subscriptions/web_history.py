"""A subscriber's history: each delivery (when, what, opened, verdicts), feedback by title, last
sent and the "nothing for N weeks" flag (history.py reads the logs)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.subscriptions import history, usecases
from services.subscriptions.context import ctx
from services.subscriptions.models import now
from services.subscriptions.web import DB, Me, Web, page, visible

router = APIRouter(include_in_schema=False)


@router.get("/subscribers/{subscriber_id}/history")
def subscriber_history(request: Request, session: DB, me: Me, web: Web, subscriber_id: str) -> HTMLResponse:
    sub = visible(session, me, subscriber_id)
    weeks = ctx(request).settings.quiet_weeks
    found = history.subscriber_history(session, sub.id)
    quiet = sub.status == "active" and (found.last_sent or history.aware(sub.created_at)) < now() - timedelta(weeks=weeks)
    return page(request, "history.html", web, sub=usecases.public(session, sub), history=found, quiet=quiet,
                quiet_weeks=weeks, verdict_labels=VERDICT_LABELS)


VERDICT_LABELS = {"click": "opened", "useful": "useful", "not_relevant": "not relevant",
                  "full_text_request": "full text requested"}
