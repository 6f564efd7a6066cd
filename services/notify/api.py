"""The links API: tracking redirects, feedback and full-text requests from e-mail links.

- GET /r/{token}: records the click (once per token) and redirects to the item;
- GET /f/{token} and GET /t/{token}: a confirmation page and nothing else, since mail scanners
  open every link in a message; its one button POSTs to the same address, which records the
  verdict (the one signed into the token: useful or not relevant) or the full-text request.

Every token names one action (links.py); another route's token is refused. A recording is a
FeedbackRow (an outbox) whose event id derives from what the token names, so a replay changes
nothing; the notify app publishes it as FeedbackGiven. An erased subscriber's links are gone.
GET /health and /healthz (liveness), /ready (the database answers) and /metrics (request
latencies by route) are for operators.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime, timezone

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from contracts import derived_event_id, utcnow
from services.common.headers import SecurityHeaders
from services.common.http_guard import api_docs
from services.common.ops import instrument
from services.common.readiness import sql_check
from services.notify import metrics  # noqa: F401  (registered at start: a dashboard shows zeros, not gaps)
from services.notify.branding import Branding
from services.notify.deliveries import DeliveryLog
from services.notify.links import VERDICTS, BadLink, LinkClaims, build_links, legacy_click
from services.notify.linktargets import resolve
from services.notify.render import render_template
from services.notify.settings import NotifySettings
from services.notify.store import NotifyStore
from services.notify.tables import FeedbackRow
from services.notify.text import clean_text, safe_url

log = logging.getLogger(__name__)

_ASK = {
    "useful": ("Was this useful?", "Tell us, and we will send you more like this.", "Yes, this was useful"),
    "not_relevant": ("Not relevant to you?", "Tell us, and we will not send you this item again.",
                     "Yes, this is not relevant to me"),
    "full_text_request": ("Request the full text?",
                          "Your request goes to {library}'s request queue, with your name and e-mail address. A "
                          "librarian will reply to you by e-mail: with the full text where the library can supply "
                          "it, or to say what else they can do.",
                          "Yes, ask the library for the full text"),
}
_THANKS = {
    "useful": ("Thank you", "We will send you more like this."),
    "not_relevant": ("Thank you", "We will not send you this item again, and your library team will see it when they "
                                  "next tune your interests."),
    "full_text_request": ("Request sent to your library team",
                          "Your request is in {library}'s request queue. A librarian will reply to you by e-mail; "
                          "nothing is sent to you automatically."),
}
_BAD = {
    "expired": ("Link expired", "This link has expired. Newer e-mails carry fresh links.", 410),
    "gone": ("Link no longer works", "This link no longer works: we hold nothing for it.", 410),
    "invalid": ("Link not valid", "This link is not valid. Please use the link in your e-mail as it is.", 400),
}


def create_links_api(settings: NotifySettings | None = None, store: NotifyStore | None = None) -> FastAPI:
    """The click/feedback app; it opens notify's database at startup unless given a store."""
    settings = settings or NotifySettings()
    links = build_links(settings)
    brand = Branding(settings.library_name, settings.library_logo_url, settings.colour_primary, settings.colour_text, settings.colour_background)
    opened: dict[str, NotifyStore] = {"store": store} if store else {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if "store" not in opened:
            opened["store"] = await run_in_threadpool(NotifyStore, settings.database_url)
            yield
            opened.pop("store").close()
        else:
            yield

    # no OpenAPI pages outside development mode: the links app's shape is nobody's business
    # every route is a GET: no request body is read
    api = FastAPI(title="Horizon notify links", lifespan=lifespan, max_body_size=0, **api_docs(settings.dev))

    def page(title: str, message: str, status: int = 200, item_title: str = "", button: str = "") -> HTMLResponse:
        body = render_template("page.html", {"title": title, "message": message, "brand": brand, "item_title": item_title,
                                             "button": button})
        return HTMLResponse(body, status_code=status)

    def bad(reason: BadLink) -> HTMLResponse:
        title, message, status = _BAD[reason.reason]
        log.info("link refused", extra={"reason": reason.reason})
        return page(title, message, status)

    def claims_of(token: str, actions: Collection[str]) -> LinkClaims | BadLink:
        return resolve(opened["store"], links, token, actions, datetime.now(timezone.utc))

    def record(claims: LinkClaims) -> bool:
        """Once per token: the event id derives from what the token names."""
        event_id = derived_event_id("notify.feedback", claims.subscriber_id, claims.item_id, claims.digest_id, claims.action)
        item = opened["store"].item(claims.item_id) if claims.action == "full_text_request" else None
        fresh = DeliveryLog(opened["store"]).record_feedback(FeedbackRow(
            event_id=event_id, subscriber_id=claims.subscriber_id, organisation_id=claims.organisation_id,
            item_id=claims.item_id, digest_id=claims.digest_id, verdict=claims.action, occurred_at=utcnow(),
            title=clean_text(item.title)[:2000] if item else None, url=safe_url(item.url) if item else None,
        ))
        log.info("feedback recorded", extra={"subscriber_id": claims.subscriber_id, "item_id": claims.item_id,
                                             "verdict": claims.action, "new": fresh})
        return fresh

    def item_title(claims: LinkClaims) -> str:
        item = opened["store"].item(claims.item_id)
        return clean_text(item.title) if item else ""

    def to_item(item_id: str) -> Response:
        item = opened["store"].item(item_id)
        url = safe_url(item.url) if item else ""
        if not url:
            return page("Item not found", "We could not find where this item lives. Your library team can help.", 404)
        return RedirectResponse(url, status_code=303)

    def legacy(token: str) -> Response:
        """A click link of an older e-mail: to the item, counted nowhere, while its subscriber is held."""
        found = legacy_click(settings.secret_key.get_secret_value(), token, settings.link_max_age_s)
        if isinstance(found, BadLink):
            return bad(found)
        subscriber_id, item_id = found
        if opened["store"].profile(subscriber_id) is None:
            return bad(BadLink("gone"))
        return to_item(item_id)

    @api.get("/r/{token}")
    def click(token: str) -> Response:
        claims = claims_of(token, ("click",))
        if isinstance(claims, BadLink):
            return legacy(token) if claims.reason == "invalid" and "." in token else bad(claims)
        response = to_item(claims.item_id)
        if response.status_code == 303:
            record(claims)
        return response

    def confirm(token: str, actions: Collection[str]) -> Response:
        claims = claims_of(token, actions)
        if isinstance(claims, BadLink):
            return bad(claims)
        title, message, button = _ASK[claims.action]
        return page(title, message.format(library=brand.library_name), item_title=item_title(claims), button=button)

    def recorded(token: str, actions: Collection[str]) -> Response:
        claims = claims_of(token, actions)
        if isinstance(claims, BadLink):
            return bad(claims)
        fresh = record(claims)
        title, message = _THANKS[claims.action]
        message = message.format(library=brand.library_name)
        if not fresh:
            message = "We had already recorded this. " + message
        return page(title, message, item_title=item_title(claims))

    @api.get("/f/{token}")
    def feedback_page(token: str) -> Response:
        return confirm(token, VERDICTS)

    @api.post("/f/{token}")
    def feedback(token: str) -> Response:
        return recorded(token, VERDICTS)

    @api.get("/t/{token}")
    def full_text_page(token: str) -> Response:
        return confirm(token, ("full_text_request",))

    @api.post("/t/{token}")
    def full_text(token: str) -> Response:
        return recorded(token, ("full_text_request",))

    @api.api_route("/f/{token}/{verdict}", methods=["GET", "POST"])
    def older_feedback(token: str, verdict: str) -> Response:
        """The feedback links of older e-mails (verdict outside the signature): they record nothing."""
        return page("Link no longer works", "This feedback link comes from an older e-mail and no longer works. "
                    "Newer e-mails carry links that do.", 410)

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # Every answer, error pages and redirects included: no script, no framing, no Referer, no caching of links.
    api.add_middleware(SecurityHeaders, no_store_prefixes=("/r/", "/f/", "/t/"))
    return instrument(api, "notify", {"database": sql_check(lambda: opened["store"].engine.connect())}, health=True)
