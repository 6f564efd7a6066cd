"""The shared operator endpoints: /metrics in Prometheus text format, /ready naming what failed,
request latencies by route template, and the dead-letter counter moving when a record is parked."""

from __future__ import annotations

import socket

import httpx
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from contracts import DeadLetter, ItemDiscovered
from contracts.topics import ITEMS, dead_letter_topic
from services.common.kafka import KafkaSettings, batch_decoder, make_broker
from services.common.ops import instrument
from services.common.readiness import kafka_check, sql_check


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(api: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://test")


async def test_ready_is_503_naming_each_dependency_that_does_not_answer() -> None:
    port = closed_port()
    database = create_engine(f"postgresql+psycopg://horizon:secret@127.0.0.1:{port}/horizon")
    live = create_engine("sqlite://")
    api = instrument(FastAPI(), "opstest", {"database": sql_check(database.connect),
                                            "kafka": kafka_check(f"127.0.0.1:{port}"),
                                            "cache": sql_check(live.connect)}, health=True)
    async with client(api) as http:
        ready = await http.get("/ready")
        alive = await http.get("/health")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready" and body["failed"] == ["database", "kafka"]
    assert body["checks"]["cache"] == "ok"
    assert "OperationalError" in body["checks"]["database"] and "Kafka" in body["checks"]["kafka"]
    assert "secret" not in ready.text  # the password in the URL never reaches the answer
    assert alive.status_code == 200  # liveness checks nothing


async def test_ready_is_200_when_every_dependency_answers() -> None:
    live = create_engine("sqlite://")
    api = instrument(FastAPI(), "opstest", {"database": sql_check(live.connect)})
    async with client(api) as http:
        ready = await http.get("/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "failed": [], "checks": {"database": "ok"}}


async def test_metrics_time_requests_by_route_template_and_status() -> None:
    api = FastAPI()

    @api.get("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    instrument(api, "opstest", {})
    labels = {"route": "/things/{thing_id}", "method": "GET", "status": "200"}
    before = REGISTRY.get_sample_value("horizon_opstest_http_request_duration_seconds_count", labels) or 0
    async with client(api) as http:
        await http.get("/things/a")
        await http.get("/things/b")
        await http.get("/no/such/path")
        response = await http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    histogram = families["horizon_opstest_http_request_duration_seconds"]
    counts = {(s.labels["route"], s.labels["status"]): s.value for s in histogram.samples if s.name.endswith("_count")}
    assert counts[("/things/{thing_id}", "200")] == before + 2  # one series for every id
    assert counts[("unmatched", "404")] >= 1  # scanners' paths never become series of their own
    assert not any(route == "/metrics" for route, _ in counts)


async def test_a_parked_poison_record_moves_the_dead_letter_counter() -> None:
    broker = make_broker("opstest", KafkaSettings(retry_backoff_s=0))
    letters: list[DeadLetter] = []

    @broker.subscriber(ITEMS, group_id="opstest", batch=True, decoder=batch_decoder("opstest", ItemDiscovered, lambda: broker))
    async def handle(events: list[ItemDiscovered]) -> None:
        pass

    @broker.subscriber(dead_letter_topic(ITEMS, "opstest"))
    async def collect(letter: DeadLetter) -> None:
        letters.append(letter)

    sample = ("horizon_opstest_messages_dead_lettered_total", {"topic": ITEMS})
    before = REGISTRY.get_sample_value(*sample) or 0
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(b"\xff not json", topic=ITEMS)
    assert len(letters) == 1
    assert REGISTRY.get_sample_value(*sample) == before + 1
