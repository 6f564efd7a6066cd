"""The FastStream app: its poll loop claims each work, then publishes its ItemDiscovered with key item_id.

One wiring test on FastStream's TestKafkaBroker, the same flow against the real Kafka broker, and
two local HTTP feeds with the same works polled in one tick: each work reaches the topic once.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream import TestApp
from faststream.kafka import KafkaMessage, TestKafkaBroker

from contracts import ItemDiscovered
from contracts.topics import ITEMS, PARTITIONS
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
        await _until(lambda: store.count_seen() == 2 and store.pending_events() == 0)  # claimed and published
    assert store.count_seen() == 2 and store.pending_events() == 0
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


class TwinFeeds(BaseHTTPRequestHandler):
    """Two feeds carrying the same works (same DOIs, each feed with its own link and abstract)."""

    tag = ""
    works = 0

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        side = self.path.strip("/")
        items = "".join(
            f"<item><title>{self.tag} work {i:03d}: a randomised trial of a treatment in adults</title>"
            f"<link>https://{side}.example/{self.tag}/{i}</link><description>As feed {side} words it.</description>"
            f"<dc:identifier>doi:10.5555/{self.tag}.{i}</dc:identifier></item>" for i in range(self.works))
        body = ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                f"<channel><title>{side}</title>{items}</channel></rss>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


async def _read_topic_to_end(bootstrap: str, topic: str) -> list[ItemDiscovered]:
    """Every event on `topic` from the beginning up to its end offsets as of now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS[topic])]  # as the topics were made
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        events: list[ItemDiscovered] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(*partitions, timeout_ms=1000)
            events += [ItemDiscovered.model_validate_json(r.value) for records in batch.values() for r in records]
        return events
    finally:
        await consumer.stop()


@pytest.mark.kafka
async def test_two_feeds_with_the_same_works_polled_in_one_tick_put_each_work_on_the_topic_once(
        tmp_path, kafka_bootstrap):
    tag, works = uuid.uuid4().hex[:8], 40
    handler = type("Feeds", (TwinFeeds,), {"tag": tag, "works": works})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")
        for side in ("a", "b"):
            store.add_source(SourceCreate(id=f"{tag}-{side}", url=f"http://127.0.0.1:{server.server_address[1]}/{side}"))
        settings = IngestSettings(allow_private_addresses=True, fetch_concurrency=4, api_port=0, poll_tick_s=0.05)
        app = create_app(settings, KafkaSettings(bootstrap_servers=kafka_bootstrap), store=store)
        async with TestApp(app):
            await _until(lambda: all(s.last_success_at for s in store.list_sources()) and store.pending_events() == 0)
    finally:
        server.shutdown()
        server.server_close()
    assert all(s.last_success_at for s in store.list_sources())  # both polled, in the first tick
    mine = [e.item.item_id for e in await _read_topic_to_end(kafka_bootstrap, ITEMS) if tag in e.item.item_id]
    assert sorted(mine) == sorted(f"doi:10.5555/{tag}.{i}" for i in range(works))  # each work once
    sources = [s.id for s in store.list_sources()]
    assert all(store.sighting(item_id, sid) for item_id in mine for sid in sources)
