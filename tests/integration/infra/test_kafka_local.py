"""The project's own Kafka broker, for real: messages flow, topics get their partitions, start/stop work."""

from __future__ import annotations

import shutil
import socket
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import ALL_TOPICS, CONFIGS, DEAD_LETTER_TOPICS, PROFILES
from horizon import kafka_local

pytestmark = pytest.mark.kafka


async def _partitions(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described}


async def test_a_produced_message_is_consumed_with_its_key(kafka_bootstrap: str) -> None:
    topic = f"test.roundtrip.{uuid.uuid4().hex[:8]}"  # auto-created, as the dead-letter topics are
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"hello": "kafka"}', key=b"subscriber-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, group_id="infra-test", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()

    assert (record.key, record.value) == (b"subscriber-1", b'{"hello": "kafka"}')


async def test_the_project_topics_exist_with_their_partition_counts(kafka_bootstrap: str) -> None:
    again = await kafka_local.create_topics(kafka_bootstrap)  # the fixture created them already

    assert again == {topic: "exists" for topic in ALL_TOPICS}
    assert await _partitions(kafka_bootstrap, list(ALL_TOPICS)) == ALL_TOPICS


async def test_the_profiles_topic_keeps_every_subscribers_latest_profile(kafka_bootstrap: str) -> None:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, PROFILES)])
    finally:
        await admin.close()
    [resource] = response.resources
    settings = {entry[0]: entry[1] for entry in resource[4]}
    assert settings["cleanup.policy"] == CONFIGS[PROFILES]["cleanup.policy"] == "compact"
    assert settings["retention.ms"] == "-1"


async def test_dead_letters_are_kept_until_someone_deals_with_them(kafka_bootstrap: str) -> None:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in DEAD_LETTER_TOPICS])
    finally:
        await admin.close()
    kept = {r[3]: {e[0]: e[1] for e in r[4]}["retention.ms"] for response in responses for r in response.resources}
    assert kept == {t: "-1" for t in DEAD_LETTER_TOPICS}


async def test_create_topics_creates_only_what_is_missing(kafka_bootstrap: str) -> None:
    run = uuid.uuid4().hex[:8]
    wanted = {f"test.topics.{run}.a": 4, f"test.topics.{run}.b": 2}

    first = await kafka_local.create_topics(kafka_bootstrap, wanted)
    second = await kafka_local.create_topics(kafka_bootstrap, wanted)

    assert set(first.values()) == {"created"} and set(second.values()) == {"exists"}
    assert await _partitions(kafka_bootstrap, list(wanted)) == wanted


def _free_pair() -> int:
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free ports")


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java 17")
def test_start_is_idempotent_and_stop_ends_the_broker(tmp_path: Path, kafka_bootstrap: str) -> None:
    # kafka_bootstrap first: under CI the jars are fetched (or the run fails) there.
    settings = kafka_local.KafkaLocalSettings(home=tmp_path / "kafka", port=_free_pair())
    try:
        first = kafka_local.start(settings)
        assert first.ok, first.message
        assert "SASL_PLAINTEXT" in first.message  # secure unless asked not to be
        assert kafka_local.probe_secure(settings.host, settings.port)
        assert kafka_local.probe(settings.host, settings.port) is None  # no answer before signing in
        assert kafka_local.status(settings) == kafka_local.BrokerStatus(True, first.pid, settings.bootstrap)

        again = kafka_local.start(settings)
        assert again.ok and again.pid == first.pid and "already running" in again.message
    finally:
        stopped = kafka_local.stop(settings)

    assert stopped.ok and stopped.message == "stopped"
    assert not kafka_local.status(settings).running
    assert not kafka_local.probe_secure(settings.host, settings.port)


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java 17")
def test_a_broker_formatted_plaintext_is_not_started_secure_without_its_credentials(tmp_path: Path,
                                                                                     kafka_bootstrap: str) -> None:
    plaintext = kafka_local.KafkaLocalSettings(home=tmp_path / "kafka", port=_free_pair(), secure=False)
    try:
        assert kafka_local.start(plaintext).ok
    finally:
        kafka_local.stop(plaintext)

    refused = kafka_local.start(plaintext.model_copy(update={"secure": True}))

    assert not refused.ok and "formatted without credentials" in refused.message
    assert "HORIZON_KAFKA_SECURE=false" in refused.message
    assert not kafka_local.status(plaintext).running


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java 17")
def test_a_broker_that_cannot_start_reports_why(tmp_path: Path, kafka_bootstrap: str) -> None:
    settings = kafka_local.KafkaLocalSettings(home=tmp_path / "kafka", port=_free_pair(), heap="1k")

    outcome = kafka_local.start(settings)

    assert not outcome.ok
    assert "heap" in outcome.message.lower()
    assert not kafka_local.status(settings).running
