"""The subscriptions service's two faces: the FastStream app and the web app (REST API + librarian UI).

`create_app` relays the outbox to horizon.profiles.v1, sends the self-service links subscribers
ask for (mail.py) and counts DigestSent / FeedbackGiven into reach and engagement (its /metrics, /ready and /health on `metrics_port`, when set).
`create_api` serves /api, the UI and /self links, and its own /metrics, /ready and /health.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from functools import partial

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from faststream import AckPolicy, FastStream
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from contracts import DigestSent, Event, FeedbackGiven, ItemRouted, ItemUnrouted, ProfileChanged
from contracts.topics import DIGESTS, FEEDBACK, PROFILES, ROUTED, UNROUTED
from services.common.headers import SecurityHeaders
from services.common.kafka import KafkaSettings, make_broker
from services.common.http_guard import api_docs
from services.common.lag import Consumed, watch_lag
from services.common.ops import instrument, serve_ops
from services.common.readiness import kafka_check, sql_check
from services.subscriptions import accounts, engagement, importing, mail, outbox, papers, unrouted, usecases
from services.subscriptions.context import Context, make_templates
from services.subscriptions.formlimit import FormLimit
from services.subscriptions.ports import ClassifyPort, HttpClassify, HttpIngest, IngestPort
from services.subscriptions.settings import SubscriptionsSettings
from services.subscriptions.store import SessionFactory, create_schema, make_engine, session_factory
from services.subscriptions.websession import Cookies

log = logging.getLogger(__name__)
SERVICE = "subscriptions"


def open_database(settings: SubscriptionsSettings, engine: Engine | None = None) -> SessionFactory:
    """Engine, schema and bootstrap admin: what both apps need before serving."""
    engine = engine or make_engine(settings.database_url)
    create_schema(engine)
    sessions = session_factory(engine)
    if settings.bootstrap_admin_email and settings.bootstrap_admin_password:
        with sessions() as session:
            accounts.ensure_bootstrap_admin(
                session, settings.bootstrap_admin_email, settings.bootstrap_admin_password.get_secret_value()
            )
    return sessions


def create_app(settings: SubscriptionsSettings | None = None, kafka: KafkaSettings | None = None,
               engine: Engine | None = None) -> FastStream:
    """The FastStream app: outbox relay loop and engagement consumers."""
    settings = settings or SubscriptionsSettings()
    broker = make_broker(SERVICE, kafka)
    profiles_out = broker.publisher(PROFILES, schema=ProfileChanged, title="ProfileChanged",
                                    description="Profile created, changed or deleted (tombstone); key subscriber_id")
    state: dict = {}

    routed_out = broker.publisher(ROUTED, schema=ItemRouted, title="ItemRouted",
                                  description="A librarian sent an unrouted item to chosen subscribers; key item_id")

    async def publish(event: Event, key: str) -> None:
        out = routed_out if isinstance(event, ItemRouted) else profiles_out
        await out.publish(event, key=key.encode("utf-8"))

    async def relay_forever(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await outbox.relay_once(state["sessions"], publish, settings.relay_batch)
            except Exception as exc:  # broker or database down: keep the rows, try again later
                log.warning("outbox relay failed, will retry", extra={"error": repr(exc)})
                sent = 0
            if sent < settings.relay_batch:
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.relay_interval_s)

    async def resolve_forever(stop: asyncio.Event) -> None:
        """Look up example papers in the background; their profiles are republished with the texts."""
        resolver = papers.PaperResolver(
            settings.pubmed_url, settings.crossref_url, settings.contact_email,
            settings.ncbi_api_key.get_secret_value() if settings.ncbi_api_key else "", settings.http_timeout_s)
        try:
            while not stop.is_set():
                try:
                    await run_in_threadpool(usecases.resolve_example_papers, state["sessions"], resolver.resolve)
                except Exception as exc:  # database down: try again next round
                    log.warning("example paper lookups failed, will retry", extra={"error": repr(exc)})
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.resolve_interval_s)
        finally:
            resolver.close()

    async def mail_forever(stop: asyncio.Event) -> None:
        """Send the self-service links subscribers asked for (mail.py)."""
        transport = mail.transport_for(settings)
        while not stop.is_set():
            try:
                await run_in_threadpool(mail.send_pending, state["sessions"], transport, settings.from_address)
            except Exception as exc:  # database down: the e-mails wait in the table
                log.warning("link e-mails not sent, will retry", extra={"error": repr(exc)})
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.mail_interval_s)

    @broker.subscriber(DIGESTS, group_id=SERVICE, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest")
    async def on_digest_sent(event: DigestSent) -> None:
        await run_in_threadpool(_in_session, state["sessions"], engagement.record_digest, event)

    @broker.subscriber(UNROUTED, group_id=SERVICE, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest")
    async def on_unrouted(event: ItemUnrouted) -> None:
        await run_in_threadpool(_in_session, state["sessions"], unrouted.record, event)

    @broker.subscriber(FEEDBACK, group_id=SERVICE, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest")
    async def on_feedback(event: FeedbackGiven) -> None:
        record = partial(engagement.record_feedback, requests_address=settings.requests_address)
        await run_in_threadpool(_in_session, state["sessions"], record, event)

    app = FastStream(broker)
    kafka = kafka or KafkaSettings()
    watch_lag(app, SERVICE, kafka, [Consumed(SERVICE, DIGESTS), Consumed(SERVICE, FEEDBACK), Consumed(SERVICE, UNROUTED)])
    serve_ops(app, SERVICE, settings.metrics_host, settings.metrics_port,
              lambda: {"database": sql_check(state["sessions"]), "kafka": kafka_check(kafka)})

    @app.on_startup
    async def open_db() -> None:
        state["sessions"] = await run_in_threadpool(open_database, settings, engine)

    @app.after_startup
    async def start_relay() -> None:
        state["stop"] = asyncio.Event()
        state["relay"] = asyncio.create_task(relay_forever(state["stop"]), name="outbox-relay")
        if settings.resolve_examples:
            state["resolver"] = asyncio.create_task(resolve_forever(state["stop"]), name="example-papers")
        state["mailer"] = asyncio.create_task(mail_forever(state["stop"]), name="link-mail")

    @app.on_shutdown
    async def stop_relay() -> None:
        task = state.pop("relay", None)
        if task is None:
            return
        state["stop"].set()  # let the current round finish and mark what the broker acknowledged
        mailer = state.pop("mailer", None)
        if mailer is not None:
            with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(mailer, timeout=settings.http_timeout_s * 2)
        resolver = state.pop("resolver", None)
        if resolver is not None:
            with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(resolver, timeout=settings.http_timeout_s * 2)
        try:
            await asyncio.wait_for(task, timeout=settings.http_timeout_s)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            log.warning("outbox relay stopped mid-round; unmarked events will be sent again")

    app.subscriptions_state = state  # type: ignore[attr-defined]  (the session factory, for tests and the integrator)
    return app


def _in_session(sessions: SessionFactory, fn, event) -> bool:
    with sessions() as session:
        counted = fn(session, event)
    log.info("engagement event", extra={"event_id": event.event_id, "counted": counted})
    return counted


def create_api(settings: SubscriptionsSettings | None = None, classify: ClassifyPort | None = None,
               ingest: IngestPort | None = None, engine: Engine | None = None) -> FastAPI:
    """The web app: REST API under /api (OpenAPI at /docs in development mode), librarian UI, self-service
    under /self. It calls ingest's and classify's APIs with its keys, so refuses (InsecureKey) to be
    built with default keys outside development mode unless given in-process ports."""
    from services.subscriptions import (api, api_account, selfservice, vocabulary, web, web_account, web_admin,
                                        web_history, web_home, web_impact, web_preview, web_requests, web_sources,
                                        web_unrouted)

    settings = settings or SubscriptionsSettings()
    vocabulary.configure(settings.taxonomy_path or None)
    if classify is None or ingest is None:
        settings.check_service_keys()  # it calls them over HTTP: fail at start, not at the first call

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        sessions = await run_in_threadpool(open_database, settings, engine)
        app.state.ctx = Context(
            settings=settings,
            sessions=sessions,
            classify=classify or HttpClassify(settings.classify_url, settings.classify_key, settings.http_timeout_s),
            ingest=ingest or HttpIngest(settings.ingest_url, settings.ingest_key, settings.http_timeout_s),
            cookies=Cookies(settings.secret_key.get_secret_value(), settings.session_max_age_s,
                            settings.secure_cookies),
            templates=make_templates(),
        )
        yield

    application = FastAPI(
        title="Horizon subscriptions",
        description="Subscribers, profiles and organisations for librarians; subscriber self-service.",
        version="1",
        lifespan=lifespan,
        max_body_size=settings.max_request_bytes,  # counted as it arrives: 413 past it, never read whole
        **api_docs(settings.dev),  # /docs and /openapi.json in development mode only
    )
    application.include_router(api.router)
    application.include_router(api_account.router)
    application.include_router(web_home.router)
    application.include_router(web_admin.router)
    application.include_router(web_sources.router)
    application.include_router(web_impact.router)
    application.include_router(web.router)
    application.include_router(web_preview.router)
    application.include_router(web_history.router)
    application.include_router(web_account.router)
    application.include_router(web_unrouted.router)
    application.include_router(web_requests.router)
    application.include_router(selfservice.router)

    @application.exception_handler(web.LoginRequired)
    async def to_login(request: Request, exc: web.LoginRequired):
        return RedirectResponse("/login", status_code=303)

    # Form posts are refused past their limit before they are read (login, every page, the import upload).
    import_limit = importing.MAX_FILE_BYTES + 64 * 1024
    application.add_middleware(FormLimit, limit_for=lambda path: import_limit if path in ("/import", "/sources/opml") else settings.form_max_bytes)
    # Self-service tokens are in URLs and API answers hold personal data: neither is cached.
    application.add_middleware(SecurityHeaders, no_store_prefixes=("/self", "/api"), skip_csp_prefixes=("/docs", "/redoc"))

    # readiness: the database; the web app publishes nothing to Kafka itself (the relay does)
    return instrument(application, SERVICE, {"database": sql_check(lambda: application.state.ctx.sessions())},
                      health=True)
