"""ingest's operator endpoints: counters that move as sources are polled, /metrics in Prometheus
text format, and /ready that names the database or Kafka when one does not answer."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from fastapi.testclient import TestClient
from faststream import TestApp
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from services.common.kafka import KafkaSettings
from services.ingest.api import create_api
from services.ingest.app import create_app
from services.ingest.fetcher import make_client
from services.ingest.poller import poll_due, poll_source
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore
from services.ingest.tables import SourceCreate

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
        b"<item><title>One article on sepsis</title><link>https://j.example/ops/1</link></item>"
        b"<item><title>Two article on asthma</title><link>https://j.example/ops/2</link></item></channel></rss>")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_polling_moves_the_fetched_published_duplicate_and_failure_counters(tmp_path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED)
    store = SqlStore("sqlite://")
    source = store.add_source(SourceCreate(id="local", url=feed.as_uri()))
    store.add_source(SourceCreate(id="missing", url=(tmp_path / "gone.xml").as_uri()))
    settings = IngestSettings(allow_file_urls=True, api_port=0, dev=True)
    published = []

    async def publish(event) -> None:
        published.append(event)

    names = ("horizon_ingest_items_fetched_total", "horizon_ingest_items_published_total",
             "horizon_ingest_items_duplicate_total")
    before = [value(n) for n in names]
    fetches = value("horizon_ingest_fetch_duration_seconds_count")
    async with make_client(settings) as client:
        await poll_source(source, client, store, settings, publish)  # two new items
        await poll_source(store.get_source("local"), client, store, settings, publish)  # the same two again
        failures = value("horizon_ingest_feed_failures_total", kind="read_error")
        reports = await poll_due(store, client, settings, publish)  # the missing file fails
    assert [value(n) - b for n, b in zip(names, before)] == [4, 2, 2]
    assert value("horizon_ingest_fetch_duration_seconds_count") - fetches == 3
    [failed] = [r for r in reports if r.error]
    assert failed.error.kind.value == "read_error"
    assert value("horizon_ingest_feed_failures_total", kind="read_error") == failures + 1
    assert value("horizon_ingest_failing_feeds") == 1

    response = TestClient(create_api(settings, store)).get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["horizon_ingest_failing_feeds"].samples[0].value == 1
    assert families["horizon_ingest_items_published"].type == "counter"


def test_ready_names_kafka_when_its_bootstrap_port_is_closed() -> None:
    store = SqlStore("sqlite://")
    api = create_api(IngestSettings(api_port=0, dev=True), store, KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"))
    response = TestClient(api).get("/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["kafka"] and response.json()["checks"]["database"] == "ok"


@pytest.mark.kafka
async def test_the_app_serves_ready_and_metrics_on_its_api_port(tmp_path, kafka_bootstrap) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED.replace(b"/ops/", b"/ops-app/"))
    store = SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")
    store.add_source(SourceCreate(id="local", url=feed.as_uri()))
    port = free_port()
    settings = IngestSettings(allow_file_urls=True, api_port=port, poll_tick_s=0.05, dev=True)
    app = create_app(settings, KafkaSettings(bootstrap_servers=kafka_bootstrap), store=store)
    async with TestApp(app), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(400):
            if store.count_seen() == 2:
                break
            await asyncio.sleep(0.05)
        ready = await http.get("/ready")
        metrics = await http.get("/metrics")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
    assert "horizon_ingest_items_published_total" in metrics.text
