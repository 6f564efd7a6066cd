"""The notify service's FastStream app: consume items, matches and profiles; send on a schedule.

Handlers consume in batches and apply each batch to the store in one transaction (idempotent on
event_id); the batch decoder parks a poison record alone on the dead-letter topic, so the valid
records beside it are applied. A match records the partition it came from: the instance that
owns that partition schedules its subscriber (several instances in the consumer group split the
subscribers; see ownership.py). A scheduler loop, every
`scheduler_interval_s`, finishes interrupted deliveries, sends urgent alerts and due digests
and briefings, then relays the outbox (DigestSent, FeedbackGiven) to Kafka, marking each event
published only after the broker took it. Blocking work (SQL, SMTP) runs in worker threads.
With `metrics_port` set it serves /metrics, /ready and /health there (services/common/ops.py).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer
from faststream import AckPolicy, FastStream
from faststream.kafka.annotations import KafkaMessage
from starlette.concurrency import run_in_threadpool

from contracts import DigestSent, FeedbackGiven, ItemClassified, ItemMatched, ItemRouted, ItemUnrouted, ProfileChanged, utcnow
from contracts.topics import DIGESTS, FEEDBACK, ITEMS_CLASSIFIED, MATCHES, PROFILES, ROUTED, UNROUTED
from services.common.kafka import KafkaSettings, batch_decoder, make_broker
from services.common.lag import Consumed, watch_lag
from services.common.ops import serve_ops
from services.notify.api import create_links_api
from services.notify.bootstrap import build_notifier
from services.notify.notifier import Notifier
from services.notify.ownership import Ownership, OwnershipListener
from services.notify.readiness import worker_checks
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)
SERVICE = "notify"

__all__ = ["create_app", "create_links_api"]


def record_partitions(records: Any) -> dict[str, int]:
    """Each subscriber's partition, from the consumed records' keys (matches are keyed by subscriber)."""
    records = records if isinstance(records, (list, tuple)) else [records]
    found = {}
    for record in records:
        key, partition = getattr(record, "key", None), getattr(record, "partition", None)
        if isinstance(key, bytes) and isinstance(partition, int):
            found[key.decode("utf-8", "replace")] = partition
    return found


def create_app(settings: NotifySettings | None = None, kafka: KafkaSettings | None = None) -> FastStream:
    settings = settings or NotifySettings()
    broker = make_broker(SERVICE, kafka)
    # Nothing is owned until Kafka assigns this instance partitions of the matches topic.
    ownership = Ownership(partitions=())
    digests_out = broker.publisher(DIGESTS, schema=DigestSent, title="DigestSent",
                                   description="A digest, alert or briefing was delivered; key subscriber_id")
    feedback_out = broker.publisher(FEEDBACK, schema=FeedbackGiven, title="FeedbackGiven",
                                    description="A click, verdict or full-text request; key subscriber_id")
    unrouted_out = broker.publisher(UNROUTED, schema=ItemUnrouted, title="ItemUnrouted",
                                    description="An urgent item matched nobody; key item_id")
    state: dict[str, Any] = {}

    def notifier() -> Notifier:
        return state["notifier"]

    def batched(model: type) -> dict[str, Any]:
        return {
            "group_id": settings.consumer_group, "ack_policy": AckPolicy.ACK, "auto_offset_reset": "earliest", "batch": True,
            "max_records": settings.batch_max_records, "batch_timeout_ms": settings.batch_timeout_ms,
            "decoder": batch_decoder(SERVICE, model, lambda: broker),
        }

    @broker.subscriber(ITEMS_CLASSIFIED, **batched(ItemClassified))
    async def on_classified(events: list[ItemClassified]) -> None:
        if events:
            await run_in_threadpool(notifier().handle_batch, events)

    matches_in = broker.subscriber(
        MATCHES, **batched(ItemMatched), listener=OwnershipListener(ownership, lambda: getattr(matches_in, "consumer", None)),
    )

    @matches_in
    async def on_matched(events: list[ItemMatched], message: KafkaMessage) -> None:
        if events:
            await run_in_threadpool(notifier().handle_batch, events, record_partitions(message.raw_message))

    @broker.subscriber(PROFILES, **batched(ProfileChanged))
    async def on_profile(events: list[ProfileChanged]) -> None:
        if events:
            await run_in_threadpool(notifier().handle_batch, events)

    @broker.subscriber(ROUTED, **batched(ItemRouted))
    async def on_routed(events: list[ItemRouted]) -> None:
        if events:
            await run_in_threadpool(notifier().handle_routed, events)

    async def in_thread(fn: Any, *args: Any) -> Any:
        # Kept, so that shutdown can wait for the page being sent rather than abandon it.
        state["running"] = asyncio.get_running_loop().run_in_executor(None, fn, *args)
        return await asyncio.shield(state["running"])

    async def relay() -> int:
        """Publish the outbox page by page until it is empty; a page is marked once the broker has it."""
        published = 0
        while not notifier().stopping.is_set() and (events := await in_thread(notifier().outbox)):
            for event in events:
                out = digests_out if isinstance(event, DigestSent) else feedback_out
                await out.publish(event, key=event.subscriber_id.encode("utf-8"))
            await in_thread(notifier().mark_published, events)
            published += len(events)
        while not notifier().stopping.is_set() and (unrouted := await in_thread(notifier().unrouted_outbox)):
            for event in unrouted:
                await unrouted_out.publish(event, key=event.item_id.encode("utf-8"))
            await in_thread(notifier().mark_unrouted_published, unrouted)
            published += len(unrouted)
        return published

    async def tick() -> None:
        now = utcnow()
        await in_thread(notifier().run_due, now)
        await in_thread(notifier().run_briefings, now)
        await in_thread(notifier().notice_unrouted, now)
        await relay()

    async def schedule_forever() -> None:
        while True:
            try:
                await tick()
            except Exception as exc:  # database, SMTP or broker down: state is kept, try next round
                log.warning("scheduler round failed, will retry", extra={"error": repr(exc)})
            await asyncio.sleep(settings.scheduler_interval_s)

    app = FastStream(broker)
    kafka = kafka or KafkaSettings()
    watch_lag(app, SERVICE, kafka, [Consumed(settings.consumer_group, t) for t in (ITEMS_CLASSIFIED, MATCHES, PROFILES, ROUTED)])
    serve_ops(app, SERVICE, settings.metrics_host, settings.metrics_port,
              lambda: worker_checks(settings, kafka, state["notifier"].store))

    @app.on_startup
    async def open_notifier() -> None:
        state["notifier"] = await run_in_threadpool(partial(build_notifier, settings, ownership=ownership))

    @app.after_startup
    async def start_scheduler() -> None:
        if not isinstance(getattr(matches_in, "consumer", None), AIOKafkaConsumer):
            ownership.own_all()  # no consumer group here (TestKafkaBroker): this process owns everyone
        state["scheduler"] = asyncio.create_task(schedule_forever(), name="notify-scheduler")

    @app.on_shutdown
    async def stop() -> None:
        if "notifier" in state:
            state["notifier"].stopping.set()
        task = state.pop("scheduler", None)
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        running = state.pop("running", None)
        if running is not None:  # the page in hand is sent and recorded before the leases go
            await asyncio.wait([running], timeout=settings.send_lease_s)
        if "notifier" in state:
            await run_in_threadpool(state.pop("notifier").close)

    app.notify_state = state  # type: ignore[attr-defined]  (the Notifier and scheduler task, for tests)
    app.notify_tick = tick  # type: ignore[attr-defined]  (one scheduler round, for tests)
    return app
