"""classify's FastStream app: items in (batched), profiles in; classified items and matches out.

The model loads and the index opens in on_startup. Work runs in a thread so the event loop
keeps serving the consumers' heartbeats while a batch is embedded.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaMessage, TopicPartition
from starlette.concurrency import run_in_threadpool

from contracts import ItemClassified, ItemDiscovered, ItemMatched, ProfileChanged
from contracts.topics import ITEMS, ITEMS_CLASSIFIED, MATCHES, PROFILES
from services.common.kafka import KafkaSettings, batch_decoder, make_broker
from services.common.lag import Consumed, watch_lag
from services.classify import metrics
from services.classify.settings import ClassifySettings

log = logging.getLogger(__name__)
SERVICE = "classify"


def create_app(settings: ClassifySettings | None = None, kafka: KafkaSettings | None = None,
               classifier=None) -> FastStream:
    """The app; pass `classifier` to reuse one already built (tests, the demo)."""
    settings = settings or ClassifySettings()
    kafka = kafka or KafkaSettings()
    if settings.api_port:
        settings.check_api_keys()  # fail at start, not once the model has loaded
    broker = make_broker(SERVICE, kafka)
    classified_out = broker.publisher(ITEMS_CLASSIFIED, schema=ItemClassified, title="ItemClassified",
                                      description="Every item, embedded and tagged; key item_id")
    matches_out = broker.publisher(MATCHES, schema=ItemMatched, title="ItemMatched",
                                   description="One per matched subscriber; key subscriber_id")
    # One lock serialises the index between the consumers and the preview API's requests.
    state: dict = {"classifier": classifier, "lock": asyncio.Lock()}

    # One process owns every profile (a consumer group, as before); several split them by
    # partition (each its own Qdrant Edge shard and table) and every one of them reads every item.
    sharded = settings.shards > 1
    group = f"{SERVICE}-shard-{settings.shard}-of-{settings.shards}" if sharded else SERVICE
    # a consumer given its partitions cannot commit in a group that has members: its own group
    profile_group = f"{group}-profiles" if sharded else SERVICE
    profile_source = ({"partitions": [TopicPartition(PROFILES, p) for p in settings.owned_partitions()]}
                      if sharded else {})

    # Items wait while the profiles topic is read up to where it stood at start (a new shard, or
    # one back after a while), so that no item is matched against half the profiles.
    caught_up, backlog = asyncio.Event(), {}
    caught_up.set()

    @broker.subscriber(*(() if sharded else (PROFILES,)), **profile_source, group_id=profile_group,
                       ack_policy=AckPolicy.ACK,
                       auto_offset_reset="earliest", batch=True, max_records=500, batch_timeout_ms=200,
                       decoder=batch_decoder(SERVICE, ProfileChanged, lambda: broker))
    async def on_profiles(events: list[ProfileChanged], msg: KafkaMessage) -> None:
        if events:
            async with state["lock"]:
                await run_in_threadpool(metrics.apply_profiles, state["classifier"], events)
        records = msg.raw_message if isinstance(msg.raw_message, (list, tuple)) else [msg.raw_message]
        for r in records:
            if r.partition in backlog and r.offset + 1 >= backlog[r.partition]:
                del backlog[r.partition]
        if not backlog and not caught_up.is_set():
            caught_up.set()
            log.info("profiles caught up: items flow")

    # The decoder parks each poison record alone, so the valid items of its batch go on.
    @broker.subscriber(ITEMS, group_id=group, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest",
                       batch=True, max_records=64, batch_timeout_ms=500,
                       decoder=batch_decoder(SERVICE, ItemDiscovered, lambda: broker))
    async def on_items(events: list[ItemDiscovered]) -> None:
        if not events:
            return
        await caught_up.wait()
        async with state["lock"]:
            result = await run_in_threadpool(metrics.classify_batch, state["classifier"], events)
        try:
            if settings.shard == 0:  # every shard classifies every item; one publishes it
                for c in result.classified:
                    await classified_out.publish(c, key=c.item.item_id.encode("utf-8"))
            for m in result.matched_events():  # built as they are read: a popular interest makes many
                await matches_out.publish(m, key=m.subscriber_id.encode("utf-8"))
        except BaseException:
            # The classifier skips events it has handled; a publish that failed (the broker is
            # down) must see the retried batch classified again, publishing the same event ids.
            state["classifier"].forget([e.event_id for e in events])
            raise

    app = FastStream(broker)
    owned = tuple(settings.owned_partitions()) if sharded else None
    watch_lag(app, SERVICE, kafka,
              [Consumed(group, ITEMS), Consumed(profile_group, PROFILES, owned)])

    @app.on_startup
    async def load() -> None:
        if sharded:
            await check_partitions(kafka, settings.profile_partitions)
        backlog.update(await profile_backlog(kafka, profile_group,
                                             settings.owned_partitions() if sharded else None))
        if backlog:
            caught_up.clear()
            log.info("reading the profiles topic before items", extra={"partitions": sorted(backlog)})
        if state["classifier"] is None:
            from services.classify.bootstrap import build_classifier

            state["classifier"] = await run_in_threadpool(build_classifier, settings)
        metrics.observe_table(state["classifier"].table)

    @app.after_startup
    async def serve_api() -> None:
        if not settings.api_port:
            return
        import uvicorn

        from services.classify.api import create_api

        api = create_api(state["classifier"], settings, state["lock"], kafka)
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


async def check_partitions(kafka: KafkaSettings, expected: int) -> None:
    """Fail fast when the profiles topic's partitions are not what the shards were told: each
    shard would then own the wrong subscribers, and some profiles no shard at all."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka.client_options(), client_id="horizon-classify-check")
    await admin.start()
    try:
        [topic] = await admin.describe_topics([PROFILES])
    finally:
        await admin.close()
    found = len(topic.get("partitions", []))
    if found != expected:
        raise RuntimeError(f"{PROFILES} has {found} partitions, HORIZON_CLASSIFY_PROFILE_PARTITIONS says {expected}")


async def profile_backlog(kafka: KafkaSettings, group: str, partitions: list[int] | None) -> dict[int, int]:
    """The profiles topic's partitions (all, or those given) where this consumer group has not
    yet read up to the end, and the end offset of each."""
    from aiokafka import AIOKafkaConsumer, TopicPartition as Partition

    consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=group, enable_auto_commit=False,
                                client_id="horizon-classify-backlog")
    await consumer.start()
    try:
        if partitions is None:
            await consumer.topics()  # fetches the metadata partitions_for_topic reads
            partitions = sorted(consumer.partitions_for_topic(PROFILES) or ())
        tps = [Partition(PROFILES, p) for p in partitions]
        if not tps:
            return {}
        end, begin = await consumer.end_offsets(tps), await consumer.beginning_offsets(tps)
        out = {}
        for tp in tps:
            committed = await consumer.committed(tp)
            if end[tp] > (committed if committed is not None else begin[tp]):
                out[tp.partition] = end[tp]
        return out
    finally:
        await consumer.stop()
