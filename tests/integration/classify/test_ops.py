"""classify's operator endpoints: counters that move as items are classified and matched, the
profile table's gauges, /metrics in Prometheus text format, and /ready naming Kafka or the index."""

from __future__ import annotations

import socket

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from contracts.topics import ITEMS, PROFILES
from services.classify.api import create_api
from services.classify.app import create_app
from services.classify.settings import ClassifySettings
from services.common.kafka import KafkaSettings

from .conftest import item_event, profile_event


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


#: development mode: /metrics and /ready are open anyway; the default key is allowed
DEV = ClassifySettings(dev=True, api_port=0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(api) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://test")


async def test_classifying_an_item_moves_the_counters_and_the_fanout(classifier) -> None:
    app = create_app(DEV, classifier=classifier)
    names = ("horizon_classify_items_classified_total", "horizon_classify_matches_total",
             "horizon_classify_item_fanout_subscribers_count", "horizon_classify_item_fanout_subscribers_sum",
             "horizon_classify_batch_duration_seconds_count")
    before = [value(n) for n in names]
    async with TestKafkaBroker(app.broker) as br:
        for sid in ("s1", "s2"):
            await br.publish(profile_event(sid, interests=["Anticoagulation for stroke prevention in atrial fibrillation"]),
                             topic=PROFILES, key=sid.encode())
        await br.publish_batch(
            item_event("doi:10.1/ops", "Apixaban versus warfarin for stroke prevention in atrial fibrillation",
                       "Anticoagulation with apixaban reduced stroke in atrial fibrillation."),
            item_event("doi:10.1/none", "Knee replacement rehabilitation at home", "Physiotherapy after surgery."),
            topic=ITEMS)
    # two items, one matched to both subscribers: fan-outs 2 and 0
    assert [value(n) - b for n, b in zip(names, before)] == [2, 2, 2, 2, 1]
    assert value("horizon_classify_profiles") == 2
    assert value("horizon_classify_profile_models") == 1  # the same profile: one model, two holders
    assert value("horizon_classify_profile_parts") >= 1

    async with client(create_api(classifier, DEV)) as http:
        response = await http.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["horizon_classify_items_classified"].type == "counter"
    assert families["horizon_classify_item_fanout_subscribers"].type == "histogram"


async def test_ready_names_kafka_when_its_port_is_closed_and_the_index_while_it_is_not_open(classifier) -> None:
    closed = KafkaSettings(bootstrap_servers=f"127.0.0.1:{closed_port()}")
    async with client(create_api(classifier, DEV, kafka=closed)) as http:
        open_index = await http.get("/ready")
    async with client(create_api(None, DEV, kafka=closed)) as http:  # the model still loading: no index yet
        no_index = await http.get("/ready")
    assert open_index.status_code == 503 and open_index.json()["failed"] == ["kafka"]
    assert open_index.json()["checks"]["qdrant"] == "ok"
    assert no_index.status_code == 503 and no_index.json()["failed"] == ["kafka", "qdrant"]
    assert "not open yet" in no_index.json()["checks"]["qdrant"]


@pytest.mark.kafka
async def test_ready_is_200_when_kafka_and_the_index_answer(classifier, kafka_bootstrap) -> None:
    async with client(create_api(classifier, DEV, kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap))) as http:
        response = await http.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"kafka": "ok", "qdrant": "ok"}
