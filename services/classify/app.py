"""classify's FastStream app: items in (batched), profiles in; classified items and matches out.

The model loads and the index opens in on_startup. Work runs in a thread so the event loop
keeps serving the consumers' heartbeats while a batch is embedded.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from faststream import AckPolicy, FastStream
from starlette.concurrency import run_in_threadpool

from contracts import ItemClassified, ItemDiscovered, ItemMatched, ProfileChanged
from contracts.topics import ITEMS, ITEMS_CLASSIFIED, MATCHES, PROFILES
from services.common.kafka import KafkaSettings, batch_decoder, make_broker
from services.classify.settings import ClassifySettings

log = logging.getLogger(__name__)
SERVICE = "classify"


def create_app(settings: ClassifySettings | None = None, kafka: KafkaSettings | None = None,
               classifier=None) -> FastStream:
    """The app; pass `classifier` to reuse one already built (tests, the demo)."""
    settings = settings or ClassifySettings()
    broker = make_broker(SERVICE, kafka)
    classified_out = broker.publisher(ITEMS_CLASSIFIED, schema=ItemClassified, title="ItemClassified",
                                      description="Every item, embedded and tagged; key item_id")
    matches_out = broker.publisher(MATCHES, schema=ItemMatched, title="ItemMatched",
                                   description="One per matched subscriber; key subscriber_id")
    # One lock serialises the index between the consumers and the preview API's requests.
    state: dict = {"classifier": classifier, "lock": asyncio.Lock()}

    @broker.subscriber(PROFILES, group_id=SERVICE, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest")
    async def on_profile(event: ProfileChanged) -> None:
        async with state["lock"]:
            await run_in_threadpool(state["classifier"].apply_profiles, [event])

    # The decoder parks each poison record alone, so the valid items of its batch go on.
    @broker.subscriber(ITEMS, group_id=SERVICE, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest",
                       batch=True, max_records=64, batch_timeout_ms=500,
                       decoder=batch_decoder(SERVICE, ItemDiscovered, lambda: broker))
    async def on_items(events: list[ItemDiscovered]) -> None:
        if not events:
            return
        async with state["lock"]:
            result = await run_in_threadpool(state["classifier"].classify, events)
        for c in result.classified:
            await classified_out.publish(c, key=c.item.item_id.encode("utf-8"))
        for m in result.matched:
            await matches_out.publish(m, key=m.subscriber_id.encode("utf-8"))

    app = FastStream(broker)

    @app.on_startup
    async def load() -> None:
        if state["classifier"] is None:
            from services.classify.bootstrap import build_classifier

            state["classifier"] = await run_in_threadpool(build_classifier, settings)

    @app.after_startup
    async def serve_api() -> None:
        if not settings.api_port:
            return
        import uvicorn

        from services.classify.api import create_api

        api = create_api(state["classifier"], settings, state["lock"])
        config = uvicorn.Config(api, host=settings.api_host, port=settings.api_port, log_level="warning",
                                lifespan="off")
        state["api"] = uvicorn.Server(config)
        state["api_task"] = asyncio.create_task(state["api"].serve(), name="classify-api")

    @app.on_shutdown
    async def close() -> None:
        if "api" in state:
            state["api"].should_exit = True
            with suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(state.pop("api_task"), timeout=10)
        if classifier is None and state["classifier"] is not None:
            async with state["lock"]:
                await run_in_threadpool(state["classifier"].close)

    app.classify_state = state  # type: ignore[attr-defined]
    return app
