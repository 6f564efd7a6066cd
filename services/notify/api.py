"""The links API: tracking redirects, feedback and full-text requests from e-mail links.

GET /r/{token} records a click and redirects to the item; GET /f/{token}/{useful|not_relevant}
records a verdict; GET /t/{token} records a full-text request; both show a thank-you page.
Each is stored as a FeedbackRow (an outbox) that the notify app publishes as FeedbackGiven.
A verdict or request is recorded once per subscriber, item and digest however often it is
clicked; every click counts. GET /health and /healthz (liveness), /ready (the database answers)
and /metrics (request latencies by route) are for operators.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from contracts import derived_event_id, new_event_id, utcnow
from services.common.headers import SecurityHeaders
from services.common.ops import instrument
from services.common.readiness import sql_check
from services.notify import metrics  # noqa: F401  (registered at start: a dashboard shows zeros, not gaps)
from services.notify.links import build_links
from services.notify.branding import Branding
from services.notify.deliveries import DeliveryLog
from services.notify.links import VERDICTS, BadLink, LinkClaims
from services.notify.render import render_template
from services.notify.settings import NotifySettings
from services.notify.store import NotifyStore
from services.notify.tables import FeedbackRow
from services.notify.text import clean_text, safe_url

log = logging.getLogger(__name__)

_THANKS = {
    "useful": ("Thank you", "We will send you more like this."),
    "not_relevant": ("Thank you", "We will not send you this item again, and your library team will see it when they "
                                  "next tune your interests."),
    "full_text_request": ("Request received", "Your library team will send you the full text."),
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

    api = FastAPI(title="Horizon notify links", docs_url=None, redoc_url=None, lifespan=lifespan)

    def page(title: str, message: str, status: int = 200, item_title: str = "") -> HTMLResponse:
        body = render_template("page.html", {"title": title, "message": message, "brand": brand, "item_title": item_title})
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    def bad(reason: BadLink) -> HTMLResponse:
        if reason.reason == "expired":
            return page("Link expired", "This link has expired. Newer e-mails carry fresh links.", 410)
        return page("Link not valid", "This link is not valid. Please use the link in your e-mail as it is.", 400)

    def record(claims: LinkClaims, verdict: str, event_id: str) -> None:
        fresh = DeliveryLog(opened["store"]).record_feedback(FeedbackRow(
            event_id=event_id, subscriber_id=claims.subscriber_id, organisation_id=claims.organisation_id,
            item_id=claims.item_id, digest_id=claims.digest_id, verdict=verdict, occurred_at=utcnow(),
        ))
        log.info("feedback recorded", extra={"subscriber_id": claims.subscriber_id, "item_id": claims.item_id, "verdict": verdict, "new": fresh})

    @api.get("/r/{token}")
    def click(token: str) -> Response:
        claims = links.verify(token)
        if isinstance(claims, BadLink):
            return bad(claims)
        item = opened["store"].item(claims.item_id)
        url = safe_url(item.url) if item else ""
        if not url:
            return page("Item not found", "We could not find where this item lives. Your library team can help.", 404)
        record(claims, "click", new_event_id())
        return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    def once(token: str, verdict: str) -> Response:
        claims = links.verify(token)
        if isinstance(claims, BadLink):
            return bad(claims)
        record(claims, verdict, derived_event_id("notify.feedback", claims.subscriber_id, claims.item_id, claims.digest_id, verdict))
        item = opened["store"].item(claims.item_id)
        title, message = _THANKS[verdict]
        return page(title, message, item_title=clean_text(item.title) if item else "")

    @api.get("/f/{token}/{verdict}")
    def feedback(token: str, verdict: str) -> Response:
        if verdict not in VERDICTS:
            return page("Link not valid", "This link is not valid.", 404)
        return once(token, verdict)

    @api.get("/t/{token}")
    def full_text(token: str) -> Response:
        return once(token, "full_text_request")

    # Every answer, error pages and redirects included: no script, no framing, no Referer.
    api.add_middleware(SecurityHeaders, no_store_prefixes=("/r/", "/f/", "/t/"))

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return instrument(api, "notify", {"database": sql_check(lambda: opened["store"].engine.connect())}, health=True)
