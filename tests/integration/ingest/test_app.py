"""The FastStream app: its poll loop publishes ItemDiscovered with key item_id, then records items as seen.

One wiring test on FastStream's TestKafkaBroker, and the same flow against the real Kafka broker.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from faststream import TestApp
from faststream.kafka import KafkaMessage, TestKafkaBroker

from contracts import ItemDiscovered
from contracts.topics import ITEMS
from services.common.kafka import KafkaSettings
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore
from services.ingest.tables import SourceCreate

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
        b"<item><title>One article</title><link>https://j.example/%s/1</link></item>"
        b"<item><title>Two article</title><link>https://j.example/%s/2</link></item></channel></rss>")


def _setup(tmp_path, tag: str) -> tuple[SqlStore, IngestSettings]:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED.replace(b"%s", tag.encode()))
    store = SqlStore("sqlite://")
    store.add_source(SourceCreate(id="local", url=feed.as_uri()))
    return store, IngestSettings(allow_file_urls=True, api_port=0, poll_tick_s=0.05)


async def _until(condition, rounds: int = 400) -> None:
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.05)


async def test_poll_loop_publishes_each_item_once_keyed_by_item_id(tmp_path):
    store, settings = _setup(tmp_path, "wiring")
    app = create_app(settings, store=store)
    received: list[ItemDiscovered] = []
    keys: list[bytes] = []

    @app.broker.subscriber(ITEMS, group_id="test")
    async def collect(event: ItemDiscovered, msg: KafkaMessage) -> None:
        received.append(event)
        keys.append(msg.raw_message.key)

    async with TestKafkaBroker(app.broker, with_real=False):
        async with TestApp(app):
            await _until(lambda: store.count_seen() == 2 and len(received) == 2)
    assert sorted(e.item.item_id for e in received) == ["url:https://j.example/wiring/1", "url:https://j.example/wiring/2"]
    assert store.get_source("local").last_success_at is not None
    assert sorted(keys) == [e.item.item_id.encode() for e in sorted(received, key=lambda e: e.item.item_id)]


@pytest.mark.kafka
async def test_items_reach_the_real_broker_with_their_keys(tmp_path, kafka_bootstrap):
    tag = uuid.uuid4().hex[:8]
    store, settings = _setup(tmp_path, tag)
    app = create_app(settings, KafkaSettings(bootstrap_servers=kafka_bootstrap), store=store)
    async with TestApp(app):
        await _until(lambda: store.count_seen() == 2)
    assert store.count_seen() == 2
    consumer = AIOKafkaConsumer(ITEMS, bootstrap_servers=kafka_bootstrap, group_id=f"ingest-test-{tag}",
                                auto_offset_reset="earliest")
    await consumer.start()
    found: dict[str, str] = {}
    try:
        for _ in range(30):
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    event = ItemDiscovered.model_validate_json(record.value)
                    if tag in event.item.item_id:
                        found[record.key.decode()] = event.item.item_id
            if len(found) == 2:
                break
    finally:
        await consumer.stop()
    assert found == {f"url:https://j.example/{tag}/1": f"url:https://j.example/{tag}/1",
                     f"url:https://j.example/{tag}/2": f"url:https://j.example/{tag}/2"}
