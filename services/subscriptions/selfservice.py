"""Subscriber self-service through signed, expiring links: preferences, unsubscribe, my data, delete me.

No password and no session: the link is the credential, and each link allows only its own
action. Forms carry a double-submit CSRF token; the RFC 8058 one-click unsubscribe
(POST .../unsubscribe with List-Unsubscribe=One-Click) is accepted without one, as mail
providers send it without cookies.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from contracts import Frequency, Weekday
from services.subscriptions import links, usecases
from services.subscriptions.access import Problem
from services.subscriptions.context import ctx
from services.subscriptions.forms import errors_of, from_form
from services.subscriptions.schemas import SubscriberUpdate
from services.subscriptions.websession import CSRF_FIELD

log = logging.getLogger(__name__)
router = APIRouter(prefix="/self", include_in_schema=False)

_REFUSED = {"expired": (410, "This link has expired. Use the link in your latest e-mail."),
            "invalid": (403, "This link is not valid.")}
SELF_KEYS = ("frequency", "weekday", "urgent_alerts")


def _claim(request: Request, token: str) -> links.LinkClaim | Response:
    c = ctx(request)
    claim = links.verify(c.secret, token, c.settings.link_max_age_s)
    if isinstance(claim, links.LinkRefused):
        status, message = _REFUSED[claim.reason]
        log.info("self-service link refused", extra={"reason": claim.reason})
        return _message(request, message, status)
    return claim


def _message(request: Request, message: str, status: int = 200) -> HTMLResponse:
    return ctx(request).templates.TemplateResponse(request, "self_message.html", {"message": message},
                                                   status_code=status)


@router.get("/{token}")
async def open_link(request: Request, token: str) -> Response:
    claim = _claim(request, token)
    if isinstance(claim, Response):
        return claim
    c = ctx(request)
    if claim.action == "export":
        data = await run_in_threadpool(_with_session, c, lambda s: usecases.my_data(s, claim.subscriber_id))
        if isinstance(data, Problem):
            return _message(request, "We hold no data about you.", 404)
        return Response(json.dumps(data, indent=2, ensure_ascii=False), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="my-horizon-data.json"'})
    return await _render(request, token, claim)


async def _render(request: Request, token: str, claim: links.LinkClaim, status: int = 200,
                  errors: dict | None = None, done: str = "") -> Response:
    c = ctx(request)
    sub = await run_in_threadpool(_with_session, c, lambda s: _public(s, claim.subscriber_id))
    if sub is None:
        return _message(request, "We hold no subscription for this link.", 404)
    csrf = c.cookies.anonymous_csrf(request)
    others = {act: links.sign(c.secret, claim.subscriber_id, act) for act in links.ACTIONS}
    response = c.templates.TemplateResponse(
        request, f"self_{claim.action}.html",
        {"sub": sub, "token": token, "csrf": csrf, "errors": errors or {}, "done": done, "others": others,
         "frequencies": [f.value for f in Frequency], "weekdays": [w.value for w in Weekday]},
        status_code=status,
    )
    c.cookies.keep_csrf(response, csrf)
    return response


def _with_session(c, fn):
    with c.sessions() as session:
        return fn(session)


def _public(session, subscriber_id: str):
    sub = usecases.get_subscriber(session, None, subscriber_id)
    return None if sub is None else usecases.public(session, sub)


@router.post("/{token}")
async def submit(request: Request, token: str) -> Response:
    claim = _claim(request, token)
    if isinstance(claim, Response):
        return claim
    c = ctx(request)
    form = await request.form()
    if not c.cookies.anonymous_csrf_valid(request, form.get(CSRF_FIELD)):
        return _message(request, "The form's security token is missing or wrong: open the link again.", 403)
    if claim.action == "preferences":
        values = from_form(form, SELF_KEYS)
        values["status"] = "active" if form.get("receive") == "on" else "unsubscribed"
        try:
            update = SubscriberUpdate.model_validate(values)
        except ValidationError as exc:
            return await _render(request, token, claim, 422, errors_of(exc))
        result = await run_in_threadpool(
            _with_session, c, lambda s: usecases.update_subscriber(s, None, claim.subscriber_id, update))
        if isinstance(result, Problem):
            return _message(request, "We hold no subscription for this link.", 404)
        return await _render(request, token, claim, done="Your preferences are saved.")
    if claim.action == "unsubscribe":
        return await _unsubscribe(request, claim)
    if claim.action == "delete":
        result = await run_in_threadpool(
            _with_session, c, lambda s: usecases.delete_subscriber(s, None, claim.subscriber_id))
        if isinstance(result, Problem):
            return _message(request, "We hold no subscription for this link.", 404)
        return _message(request, "Everything we held about you has been deleted. You will receive nothing more.")
    return _message(request, "This link does not accept a form.", 405)


async def _unsubscribe(request: Request, claim: links.LinkClaim) -> Response:
    result = await run_in_threadpool(
        _with_session, ctx(request), lambda s: usecases.unsubscribe(s, claim.subscriber_id))
    if isinstance(result, Problem):
        return _message(request, "We hold no subscription for this link.", 404)
    log.info("unsubscribed", extra={"subscriber_id": claim.subscriber_id})
    return _message(request, "You are unsubscribed and will receive no more e-mails.")


@router.post("/{token}/unsubscribe")
async def one_click_unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click; no cookie, no CSRF token."""
    c = ctx(request)
    claim = links.verify(c.secret, token, c.settings.link_max_age_s)
    if isinstance(claim, links.LinkRefused):
        return PlainTextResponse(_REFUSED[claim.reason][1], status_code=_REFUSED[claim.reason][0])
    if claim.action != "unsubscribe":
        return PlainTextResponse("This link does not unsubscribe.", status_code=403)
    result = await run_in_threadpool(_with_session, c, lambda s: usecases.unsubscribe(s, claim.subscriber_id))
    if isinstance(result, Problem):
        return PlainTextResponse("No such subscription.", status_code=404)
    log.info("unsubscribed (one-click)", extra={"subscriber_id": claim.subscriber_id})
    return PlainTextResponse("Unsubscribed.")
