"""subscriptions' operator endpoints: the web app's request latencies by route and its /ready on
the real database (SQLite, PostgreSQL); the relay's outbox figures, lag and /ready on its metrics port."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from fastapi.testclient import TestClient
from faststream import TestApp
from faststream.kafka import TestKafkaBroker
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from contracts.topics import DIGESTS, PROFILES
from services.common.kafka import KafkaSettings
from services.subscriptions import usecases
from services.subscriptions.accounts import ensure_organisation
from services.subscriptions.app import create_api, create_app
from services.subscriptions.schemas import SubscriberCreate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def add_subscriber(sessions) -> str:
    with sessions() as session:
        org = ensure_organisation(session, "Alpha Hospitals NHS Trust")
        return usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=org.id, name="Ann Lee", email="ann@example.nhs.uk", interests=["Sepsis"])).id


def test_the_web_app_times_requests_by_route_and_is_ready_on_its_database(settings, engine) -> None:
    labels = {"route": "/login", "method": "GET", "status": "200"}
    before = value("horizon_subscriptions_http_request_duration_seconds_count", **labels)
    with TestClient(create_api(settings, engine=engine)) as client:
        assert client.get("/login").status_code == 200
        assert client.get("/api/subscribers/no-such-id").status_code == 401
        metrics = client.get("/metrics")
        ready = client.get("/ready")
        health = client.get("/health")
    assert value("horizon_subscriptions_http_request_duration_seconds_count", **labels) == before + 1
    families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
    routes = {s.labels["route"] for s in families["horizon_subscriptions_http_request_duration_seconds"].samples}
    assert "/api/subscribers/{subscriber_id}" in routes and not any("no-such-id" in r for r in routes)
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    assert health.status_code == 200


async def test_the_relay_counts_what_it_published_and_its_port_names_kafka_when_down(settings, engine, sessions) -> None:
    add_subscriber(sessions)
    port = free_port()
    app = create_app(settings.model_copy(update={"relay_interval_s": 0.05, "resolve_examples": False,
                                                 "metrics_port": port}),
                     kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"), engine=engine)
    published = value("horizon_subscriptions_outbox_published_total")
    seen: list[dict] = []

    @app.broker.subscriber(PROFILES)
    async def on_profile(body: dict) -> None:
        seen.append(body)

    # the in-memory broker stands in for Kafka; readiness still asks the closed port it was given
    async with TestKafkaBroker(app.broker), TestApp(app), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.05)
        ready = await http.get("/ready")
        metrics = await http.get("/metrics")
        health = await http.get("/health")
    assert len(seen) == 1
    assert value("horizon_subscriptions_outbox_published_total") == published + 1
    assert value("horizon_subscriptions_outbox_pending_rows") == 0
    assert ready.status_code == 503 and ready.json()["failed"] == ["kafka"]
    assert ready.json()["checks"]["database"] == "ok"
    assert "horizon_subscriptions_outbox_pending_rows" in metrics.text and health.status_code == 200


@pytest.mark.kafka
async def test_the_relay_is_ready_and_reports_its_groups_lag_on_the_real_broker(kafka_bootstrap, settings, engine) -> None:
    port = free_port()
    app = create_app(settings.model_copy(update={"resolve_examples": False, "metrics_port": port}),
                     kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap), engine=engine)
    lag = f'horizon_subscriptions_consumer_lag_messages{{group="subscriptions",partition="0",topic="{DIGESTS}"}}'
    async with TestApp(app), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        ready = await http.get("/ready")
        for _ in range(400):  # the first sample is taken at start (again after 15 s if the broker was busy)
            metrics = await http.get("/metrics")
            if lag in metrics.text:
                break
            await asyncio.sleep(0.1)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
    assert lag in metrics.text
