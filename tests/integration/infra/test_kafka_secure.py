"""The secure broker `horizon kafka start` runs by default, for real: nobody gets in without a
principal's password, and each service's principal writes only the topics it produces and reads
only those it consumes (in its own consumer groups), so that, for one, ingest cannot forge a
profile, and a forged ProfileChanged can no longer reach notify. `admin` creates topics and reads
every dead letter. (The services' own flows on this broker: tests/e2e/test_pipeline_kafka.py.)"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError, KafkaConnectionError, KafkaError, TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from contracts.topics import CONSUMERS, ITEMS, MATCHES, PRODUCERS, PROFILES, SERVICES, dead_letter_topic
from horizon import kafka_local
from horizon.dlq.broker import read_parked
from services.common.kafka import KafkaSettings, make_broker

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]



AUTHORIZATION_ERRORS = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)


def as_(secure_kafka, principal: str) -> KafkaSettings:
    return kafka_local.principal_settings(secure_kafka, principal)


async def _produce(kafka: KafkaSettings | dict, topic: str, value: bytes = b"{}") -> None:
    options = kafka.client_options() if isinstance(kafka, KafkaSettings) else kafka
    producer = AIOKafkaProducer(**options, request_timeout_ms=5000, metadata_max_age_ms=5000)
    try:
        await producer.start()
        await asyncio.wait_for(producer.send_and_wait(topic, value, key=b"k"), timeout=20)
    finally:
        await producer.stop()


async def _read_one(kafka: KafkaSettings, topic: str, group: str) -> bytes:
    consumer = AIOKafkaConsumer(topic, **kafka.client_options(), group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, request_timeout_ms=5000)
    try:
        await consumer.start()
        return (await asyncio.wait_for(consumer.getone(), timeout=30)).value
    finally:
        await consumer.stop()


async def test_a_client_without_a_password_cannot_publish_or_consume(secure_kafka):
    plaintext = {"bootstrap_servers": secure_kafka.bootstrap, "security_protocol": "PLAINTEXT"}
    with pytest.raises((KafkaError, OSError, asyncio.TimeoutError)):
        await asyncio.wait_for(_produce(plaintext, ITEMS), timeout=30)
    consumer = AIOKafkaConsumer(ITEMS, **plaintext, group_id="anyone", request_timeout_ms=5000)
    with pytest.raises((KafkaError, OSError, asyncio.TimeoutError)):
        await asyncio.wait_for(consumer.start(), timeout=30)
    await consumer.stop()


async def test_a_wrong_password_is_refused(secure_kafka):
    wrong = as_(secure_kafka, "ingest").model_copy(update={"password": SecretStr("not-the-password")})
    with pytest.raises((KafkaError, OSError, asyncio.TimeoutError)):
        await asyncio.wait_for(_produce(wrong, ITEMS), timeout=30)


async def test_the_ingest_principal_writes_items_and_cannot_write_profiles(secure_kafka):
    ingest = as_(secure_kafka, "ingest")
    await _produce(ingest, ITEMS)
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(ingest, PROFILES, b'{"forged": true}')


@pytest.mark.parametrize("service", SERVICES)
async def test_each_principal_writes_exactly_the_topics_its_service_produces(secure_kafka, service):
    kafka = as_(secure_kafka, service)
    for topic, producer in PRODUCERS.items():
        if producer == service:
            await _produce(kafka, topic)
        else:
            with pytest.raises(TopicAuthorizationFailedError):
                await _produce(kafka, topic)
    for topic, consumers in CONSUMERS.items():  # its own dead-letter topics, and no one else's
        for consumer in consumers:
            if consumer == service:
                await _produce(kafka, dead_letter_topic(topic, consumer))
            else:
                with pytest.raises(TopicAuthorizationFailedError):
                    await _produce(kafka, dead_letter_topic(topic, consumer))


@pytest.mark.parametrize("service", SERVICES)
async def test_each_principal_reads_exactly_the_topics_its_service_consumes(secure_kafka, service):
    kafka = as_(secure_kafka, service)
    for topic, consumers in CONSUMERS.items():
        marker = uuid.uuid4().hex.encode()
        await _produce(as_(secure_kafka, PRODUCERS[topic]), topic, marker)
        group = f"{service}-secure-test-{uuid.uuid4().hex[:6]}"
        if service in consumers:
            assert await _read_one(kafka, topic, group)
        else:
            with pytest.raises(AUTHORIZATION_ERRORS):
                await _read_one(kafka, topic, group)


async def test_a_service_reads_only_in_consumer_groups_named_for_it(secure_kafka):
    with pytest.raises(GroupAuthorizationFailedError):
        await _read_one(as_(secure_kafka, "notify"), MATCHES, "classify")  # classify's group


async def test_a_faststream_broker_signs_in_as_its_service(secure_kafka):
    broker = make_broker("ingest", as_(secure_kafka, "ingest"))
    async with broker:
        await broker.connect()
        await broker.publish({"ok": True}, topic=ITEMS)
        with pytest.raises(TopicAuthorizationFailedError):
            await broker.publish({"forged": True}, topic=PROFILES)


async def test_admin_makes_topics_and_reads_every_dead_letter_and_a_service_cannot(secure_kafka):
    admin = as_(secure_kafka, kafka_local.ADMIN)
    again = await kafka_local.create_topics(admin)
    assert set(again.values()) == {"exists"}
    await _produce(as_(secure_kafka, "notify"), dead_letter_topic(MATCHES, "notify"), b"not a letter")
    letters, _ = await read_parked(admin)
    assert any(p.dead_letter_topic == dead_letter_topic(MATCHES, "notify") for p in letters)
    with pytest.raises(RuntimeError, match="horizon.rogue.v1"):  # TOPIC_AUTHORIZATION_FAILED
        await kafka_local.create_topics(as_(secure_kafka, "notify"), {"horizon.rogue.v1": 1})


def test_the_credentials_and_the_config_holding_the_admins_password_are_private(secure_kafka):
    assert secure_kafka.credentials_file.stat().st_mode & 0o777 == 0o600
    assert (secure_kafka.home / "config" / "server.properties").stat().st_mode & 0o777 == 0o600
    assert set(kafka_local.read_credentials(secure_kafka)) == {"admin", *SERVICES}


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate it signed for 127.0.0.1 with its key (PEM, PKCS#8)."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Horizon test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
            "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "broker.pem", "-days", "2", "-extfile", "san.ext")
    return folder / "broker.pem", folder / "broker.key", folder / "ca.pem"


@pytest.fixture(scope="module")
def tls_kafka(tmp_path_factory):
    """A secure broker given a certificate: its client port speaks SASL over TLS."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make the test certificates")
    certs = tmp_path_factory.mktemp("certs")
    cert, key, ca = _certificates(certs)
    settings = kafka_local.KafkaLocalSettings(home=tmp_path_factory.mktemp("kafka-tls"), port=kafka_local.free_port_pair(),
                                              ssl_certfile=cert, ssl_keyfile=key, ssl_cafile=ca)
    started = kafka_local.start(settings)
    if not started.ok:
        pytest.fail(f"the TLS broker did not start: {started.message}", pytrace=False)
    try:
        kafka_local.ensure_topics(kafka_local.principal_settings(settings))
        yield settings
    finally:
        kafka_local.stop(settings)


async def test_with_a_certificate_clients_sign_in_over_tls_and_nothing_else_gets_in(tls_kafka):
    ingest = as_(tls_kafka, "ingest")
    assert ingest.security_protocol == "SASL_SSL" and ingest.ssl_cafile is not None
    await _produce(ingest, ITEMS)  # the broker's certificate checked against the CA, host name included
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(ingest, PROFILES)
    without_tls = ingest.model_copy(update={"security_protocol": "SASL_PLAINTEXT"})
    with pytest.raises((KafkaError, OSError, asyncio.TimeoutError)):
        await asyncio.wait_for(_produce(without_tls, ITEMS), timeout=30)
    untrusted = ingest.model_copy(update={"ssl_cafile": None})  # the system's CAs do not know this one
    with pytest.raises((KafkaError, OSError, asyncio.TimeoutError)):
        await asyncio.wait_for(_produce(untrusted, ITEMS), timeout=30)
