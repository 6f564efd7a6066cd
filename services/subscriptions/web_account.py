"""The librarian's own account pages: password, API tokens; and an admin's list of librarians.

- /account: change the password (every other session ends; this browser gets a fresh one);
- /tokens: the librarian's live API tokens, a form for a new one (its secret shown once, on the
  answer to that form, never again) and a revoke button for each;
- /librarians (admins): the librarians of the admin's organisations (the page and its forms to add
  one or change their organisations: web_admin.py), each disabled or enabled with a button
  (disabling ends their sessions and revokes their tokens).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from services.subscriptions import accounts, auth, credentials, sessions
from services.subscriptions.access import Problem
from services.subscriptions.characters import single_line_problem
from services.subscriptions.context import ctx
from services.subscriptions.models import Librarian, now
from services.subscriptions.web import DB, Form, Me, Web, page, redirect

router = APIRouter(include_in_schema=False)
TOKEN_DAY_CHOICES = (7, 30, 90, 180, 365)


@router.get("/account")
def account(request: Request, me: Me, web: Web) -> HTMLResponse:
    return page(request, "account.html", web, me=me)


@router.post("/account/password")
async def change_password(request: Request, web: Web, form: Form) -> Response:
    c = ctx(request)
    new, confirm = str(form.get("new_password", ""))[:1000], str(form.get("confirm_password", ""))[:1000]
    current = str(form.get("current_password", ""))[:1000]

    def change() -> tuple[Librarian, Problem | tuple[str, sessions.WebSession]]:
        with c.sessions() as db:
            lib = db.get(Librarian, web.librarian_id)
            if new != confirm:
                return lib, Problem(422, "The new password and its confirmation differ.")
            problem = credentials.change_password(db, lib, current, new, c.settings.throttle_policy, now())
            return lib, problem if problem else sessions.start(db, lib, now())

    lib, outcome = await run_in_threadpool(change)
    if isinstance(outcome, Problem):
        return page(request, "account.html", web, status=outcome.status, me=lib, error=outcome.message)
    cookie, fresh = outcome  # every session ended, this browser's too: it carries on in a new one
    response = page(request, "account.html", fresh, me=lib,
                    done="Your password is changed. Every other session of yours has ended.")
    c.cookies.start(response, cookie)
    return response


def _tokens_page(request: Request, db, me: Librarian, web, status: int = 200, **values) -> HTMLResponse:
    max_days = ctx(request).settings.api_token_max_days
    response = page(request, "tokens.html", web, status=status, tokens=auth.live_tokens(db, me),
                    day_choices=[d for d in TOKEN_DAY_CHOICES if d <= max_days] or [max_days],
                    default_days=ctx(request).settings.api_token_days, **values)
    response.headers["Cache-Control"] = "no-store"  # a new token's secret is on it once
    return response


@router.get("/tokens")
def tokens(request: Request, db: DB, me: Me, web: Web) -> HTMLResponse:
    return _tokens_page(request, db, me, web)


@router.post("/tokens")
def create_token(request: Request, db: DB, me: Me, web: Web, form: Form) -> HTMLResponse:
    settings = ctx(request).settings
    name = str(form.get("name", "")).strip()[:100]
    days = str(form.get("expires_in_days", "")).strip()
    problem = single_line_problem(name)
    if problem or not days.isdigit() or not 1 <= int(days) <= settings.api_token_max_days:
        message = f"The name {problem}." if problem else f"Choose a lifetime of 1 to {settings.api_token_max_days} days."
        return _tokens_page(request, db, me, web, status=422, error=message)
    row, secret = auth.issue_token(db, me, name or "web", now() + timedelta(days=int(days)))
    return _tokens_page(request, db, me, web, new_secret=secret, new_name=row.name)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(db: DB, me: Me, form: Form, token_id: str) -> Response:
    if not auth.revoke_token(db, me, token_id):
        raise HTTPException(404, "token not found")
    return redirect("/tokens")


def _admin(me: Librarian) -> None:
    if me.role != "admin":
        raise HTTPException(403, "only an admin may manage librarians")


@router.post("/librarians/{librarian_id}/{action}")
def set_active(db: DB, me: Me, form: Form, librarian_id: str, action: str) -> Response:
    _admin(me)
    if action not in ("disable", "enable"):
        raise HTTPException(404, "no such action")
    result = accounts.set_active(db, me, librarian_id, action == "enable")
    if isinstance(result, Problem):
        raise HTTPException(result.status, result.message)
    return redirect("/librarians")
