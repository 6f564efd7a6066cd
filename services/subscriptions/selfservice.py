"""Subscriber self-service through signed, expiring links: preferences, unsubscribe, my data, delete me.

No password and no session: the link is the credential, so each link does its own action only,
and its page links to no other.

- preferences (in every e-mail): change frequency, day and alerts, or stop receiving; and ask for
  a link to download or to delete one's data, which is e-mailed to the subscriber's own address
  (mail.py) and works for an hour: whoever holds a forwarded e-mail cannot take or erase the data;
- unsubscribe (the List-Unsubscribe URL, which mail providers see): unsubscribe, nothing else;
- export (e-mailed on request): the JSON download; delete (e-mailed on request): erase, after a
  confirming POST.

Forms carry a double-submit CSRF token; the RFC 8058 one-click unsubscribe (POST
.../unsubscribe with List-Unsubscribe=One-Click) is accepted without one, as mail providers send
it without cookies. A link whose subscriber has been erased finds nobody and does nothing.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import ValidationError
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from contracts import Frequency, Weekday
from services.subscriptions import links, mail, usecases
from services.subscriptions.access import Problem
from services.subscriptions.context import Context, ctx
from services.subscriptions.forms import errors_of, from_form
from services.subscriptions.models import Subscriber, now
from services.subscriptions.schemas import SubscriberUpdate
from services.subscriptions.websession import CSRF_FIELD

log = logging.getLogger(__name__)
router = APIRouter(prefix="/self", include_in_schema=False)

_REFUSED = {"expired": (410, "This link has expired. Use the link in your latest e-mail."),
            "invalid": (403, "This link is not valid.")}
_NOBODY = "We hold no subscription for this link."
SELF_KEYS = ("frequency", "weekday", "urgent_alerts")


def _verify(c: Context, token: str) -> links.LinkClaim | links.LinkRefused:
    return links.verify(c.secret, token, c.settings.link_max_age_s, c.settings.sensitive_link_max_age_s)


def _claim(request: Request, token: str) -> links.LinkClaim | Response:
    claim = _verify(ctx(request), token)
    if isinstance(claim, links.LinkRefused):
        status, message = _REFUSED[claim.reason]
        log.info("self-service link refused", extra={"reason": claim.reason})
        return _message(request, message, status)
    return claim


def _message(request: Request, message: str, status: int = 200) -> HTMLResponse:
    return ctx(request).templates.TemplateResponse(request, "self_message.html", {"message": message},
                                                   status_code=status)


def _in_session(c: Context, fn):
    with c.sessions() as session:
        return fn(session)


def _subscriber_id(c: Context, claim: links.LinkClaim) -> str | None:
    """Whom the link names, if they are still held (an erased subscriber's links find nobody)."""
    return _in_session(c, lambda s: s.exec(select(Subscriber.id).where(Subscriber.link_key == claim.link_key)).first())


def _public(session, subscriber_id: str):
    sub = usecases.get_subscriber(session, None, subscriber_id)
    return None if sub is None else usecases.public(session, sub)


async def _render(request: Request, token: str, claim: links.LinkClaim, sid: str, status: int = 200,
                  errors: dict | None = None, done: str = "") -> Response:
    c = ctx(request)
    sub = await run_in_threadpool(_in_session, c, lambda s: _public(s, sid))
    if sub is None:
        return _message(request, _NOBODY, 404)
    csrf = c.cookies.anonymous_csrf(request)
    response = c.templates.TemplateResponse(
        request, f"self_{claim.action}.html",
        {"sub": sub, "token": token, "csrf": csrf, "errors": errors or {}, "done": done,
         "frequencies": [f.value for f in Frequency], "weekdays": [w.value for w in Weekday],
         "valid_minutes": c.settings.sensitive_link_max_age_s // 60},
        status_code=status,
    )
    c.cookies.keep_csrf(response, csrf)
    return response


@router.get("/{token}")
async def open_link(request: Request, token: str) -> Response:
    claim = _claim(request, token)
    if isinstance(claim, Response):
        return claim
    c = ctx(request)
    sid = await run_in_threadpool(_subscriber_id, c, claim)
    if sid is None:
        return _message(request, _NOBODY, 404)
    if claim.action == "export":
        data = await run_in_threadpool(_in_session, c, lambda s: usecases.my_data(s, sid))
        if isinstance(data, Problem):
            return _message(request, "We hold no data about you.", 404)
        log.info("data downloaded", extra={"subscriber_id": sid})
        return Response(json.dumps(data, indent=2, ensure_ascii=False), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="my-horizon-data.json"'})
    return await _render(request, token, claim, sid)


async def _checked(request: Request, token: str) -> tuple[links.LinkClaim, str, object] | Response:
    """The claim, the subscriber and the posted form, once the link and the CSRF token hold."""
    claim = _claim(request, token)
    if isinstance(claim, Response):
        return claim
    c = ctx(request)
    form = await request.form()
    if not c.cookies.anonymous_csrf_valid(request, form.get(CSRF_FIELD)):
        return _message(request, "The form's security token is missing or wrong: open the link again.", 403)
    sid = await run_in_threadpool(_subscriber_id, c, claim)
    if sid is None:
        return _message(request, _NOBODY, 404)
    return claim, sid, form


@router.post("/{token}")
async def submit(request: Request, token: str) -> Response:
    checked = await _checked(request, token)
    if isinstance(checked, Response):
        return checked
    claim, sid, form = checked
    c = ctx(request)
    if claim.action == "preferences":
        values = from_form(form, SELF_KEYS)
        values["status"] = "active" if form.get("receive") == "on" else "unsubscribed"
        try:
            update = SubscriberUpdate.model_validate(values)
        except ValidationError as exc:
            return await _render(request, token, claim, sid, 422, errors_of(exc))
        result = await run_in_threadpool(_in_session, c, lambda s: usecases.update_subscriber(s, None, sid, update))
        if isinstance(result, Problem):
            return _message(request, _NOBODY, 404)
        return await _render(request, token, claim, sid, done="Your preferences are saved.")
    if claim.action == "unsubscribe":
        return await _unsubscribe(request, sid)
    if claim.action == "delete":
        result = await run_in_threadpool(_in_session, c, lambda s: usecases.delete_subscriber(s, None, sid))
        if isinstance(result, Problem):
            return _message(request, _NOBODY, 404)
        return _message(request, "Everything we held about you has been deleted. You will receive nothing more.")
    return _message(request, "This link does not accept a form.", 405)


@router.post("/{token}/send-link")
async def send_link(request: Request, token: str) -> Response:
    """From the preferences page: e-mail the subscriber a fresh export or delete link."""
    checked = await _checked(request, token)
    if isinstance(checked, Response):
        return checked
    claim, sid, form = checked
    what = str(form.get("what", ""))
    if claim.action != "preferences" or what not in links.SENSITIVE:
        return _message(request, "This link cannot send that.", 403)
    c = ctx(request)
    url = links.url(c.settings.public_base_url, links.sign(c.secret, sid, what))  # type: ignore[arg-type]

    def queue(session) -> bool | None:
        sub = session.get(Subscriber, sid)
        return None if sub is None else mail.request_link(
            session, sub, what, url, c.settings.sensitive_link_max_age_s // 60, c.settings.link_request_interval_s, now())

    queued = await run_in_threadpool(_in_session, c, queue)
    if queued is None:
        return _message(request, _NOBODY, 404)
    doing = "download your data" if what == "export" else "delete your data"
    if not queued:
        return _message(request, f"We sent you a link to {doing} a few minutes ago. Please look for it in your "
                                 "e-mail (and its spam folder).")
    return _message(request, f"We have sent a link to {doing} to your e-mail address. "
                             f"It works for {c.settings.sensitive_link_max_age_s // 60} minutes.")


async def _unsubscribe(request: Request, sid: str) -> Response:
    result = await run_in_threadpool(_in_session, ctx(request), lambda s: usecases.unsubscribe(s, sid))
    if isinstance(result, Problem):
        return _message(request, _NOBODY, 404)
    log.info("unsubscribed", extra={"subscriber_id": sid})
    return _message(request, "You are unsubscribed and will receive no more e-mails.")


@router.post("/{token}/unsubscribe")
async def one_click_unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click; no cookie, no CSRF token."""
    c = ctx(request)
    claim = _verify(c, token)
    if isinstance(claim, links.LinkRefused):
        return PlainTextResponse(_REFUSED[claim.reason][1], status_code=_REFUSED[claim.reason][0])
    if claim.action != "unsubscribe":
        return PlainTextResponse("This link does not unsubscribe.", status_code=403)
    sid = await run_in_threadpool(_subscriber_id, c, claim)
    result = Problem(404, "") if sid is None else await run_in_threadpool(_in_session, c, lambda s: usecases.unsubscribe(s, sid))
    if isinstance(result, Problem):
        return PlainTextResponse("No such subscription.", status_code=404)
    log.info("unsubscribed (one-click)", extra={"subscriber_id": sid})
    return PlainTextResponse("Unsubscribed.")
