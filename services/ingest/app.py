"""The ingest service's FastStream app: a polling loop that publishes ItemDiscovered to horizon.items.v1.

`create_app(settings=None, kafka=None, store=None) -> FastStream`. On startup it opens the SQL store,
starts the loop over the enabled sources that are due (poller.run_polling) and, when
`api_port` is not 0, serves the sources/health API (api.create_api; /ready and /metrics too) with
uvicorn. Each event is published with key item_id. Every work is claimed in the store, with its
event queued in the store's outbox, before it is published; the poll loop's outbox relay
publishes what a failed publish or a crash left there (poller.py). Ingest consumes no topic, so
it has no subscribers.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from faststream import FastStream

from contracts import ItemDiscovered
from contracts.topics import ITEMS
from services.common.kafka import KafkaSettings, make_broker
from services.ingest.poller import run_polling
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore

log = logging.getLogger(__name__)
SERVICE = "ingest"


def create_app(settings: IngestSettings | None = None, kafka: KafkaSettings | None = None,
               store: SqlStore | None = None) -> FastStream:
    """The FastStream app of ingest (see the module docstring)."""
    settings = settings or IngestSettings()
    if settings.api_port:
        settings.check_api_keys()  # fail at start, not at the first request
    broker = make_broker(SERVICE, kafka)
    items_out = broker.publisher(ITEMS, schema=ItemDiscovered, title="ItemDiscovered",
                                 description="A new item, or a revision of one; key item_id")
    state: dict = {}

    async def publish(event: ItemDiscovered) -> None:
        await items_out.publish(event, key=event.item.item_id.encode("utf-8"))

    app = FastStream(broker)

    @app.on_startup
    async def open_store() -> None:
        state["store"] = store or await asyncio.to_thread(SqlStore, settings.database_url)

    @app.after_startup
    async def start_loops() -> None:
        state["stop"] = asyncio.Event()
        state["poller"] = asyncio.create_task(run_polling(state["store"], settings, publish, state["stop"]),
                                              name="ingest-poller")
        if settings.api_port:
            import uvicorn

            from services.ingest.api import create_api

            config = uvicorn.Config(create_api(settings, state["store"], kafka), host=settings.api_host,
                                    port=settings.api_port, log_level="warning", lifespan="off")
            state["api"] = uvicorn.Server(config)
            state["api_task"] = asyncio.create_task(state["api"].serve(), name="ingest-api")
        log.info("ingest started", extra={"api_port": settings.api_port, "tick_s": settings.poll_tick_s})

    @app.on_shutdown
    async def stop_loops() -> None:
        if "stop" in state:
            state["stop"].set()
        if "api" in state:
            state["api"].should_exit = True
        for name in ("poller", "api_task"):
            task = state.pop(name, None)
            if task is not None:
                with suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(task, timeout=10)

    app.ingest_state = state  # type: ignore[attr-defined]  (the store and tasks, for tests and the integrator)
    return app
