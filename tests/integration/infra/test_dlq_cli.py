"""`horizon dlq` on the real broker: two letters parked by a real consumer are listed, a dry run
shows them and sends nothing, a replay republishes them byte for byte, a second replay sends nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream import AckPolicy
from typer.testing import CliRunner

import contracts
from contracts import ItemDiscovered
from horizon.cli import app
from services.common.counters import DeliveryCounters
from services.common.errors import RuleViolation
from services.common.kafka import KafkaSettings, make_broker

pytestmark = pytest.mark.kafka

EXAMPLE = (Path(contracts.__file__).parent / "examples" / "item_discovered.json").read_bytes()
NOT_UTF8 = b"\xff\xfe raw bytes"
runner = CliRunner()


async def _park_two(bootstrap: str, topic: str, service: str) -> None:
    """A real consumer parks a message that breaks a rule and one that does not decode."""
    counters = DeliveryCounters()
    broker = make_broker(service, KafkaSettings(bootstrap_servers=bootstrap), counters=counters)

    @broker.subscriber(topic, group_id=service, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest")
    async def strict(event: ItemDiscovered) -> None:
        raise RuleViolation("no item from this source is accepted")

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, EXAMPLE, key=b"item-1")
        await producer.send_and_wait(topic, NOT_UTF8, key=b"item-2")
    finally:
        await producer.stop()
    async with broker:
        await broker.start()
        for _ in range(600):
            if counters.parks[(service, topic)] == 2:
                break
            await asyncio.sleep(0.05)
    assert counters.parks[(service, topic)] == 2


async def _records(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        out = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                out.extend((r.key, r.value) for r in records)
        return out
    finally:
        await consumer.stop()


def _dlq(bootstrap: str, *args: str) -> dict:
    result = runner.invoke(app, ["dlq", *args, "--bootstrap", bootstrap, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_park_list_dry_run_replay_and_replay_again(kafka_bootstrap):
    run = uuid.uuid4().hex[:8]
    topic, service = f"test.replay.{run}", f"replay{run}"
    asyncio.run(_park_two(kafka_bootstrap, topic, service))

    listed = _dlq(kafka_bootstrap, "list", "--service", service)
    [summary] = listed["topics"]
    assert (summary["dead_letter_topic"], summary["parked"], summary["replayed"]) == (f"{topic}.dlq.{service}", 2, 0)
    assert sorted(e["error"].split(":")[0] for e in summary["errors"]) == ["RuleViolation", "ValidationError"]

    dry = _dlq(kafka_bootstrap, "replay", "--service", service, "--dry-run")
    assert len(dry["would_replay"]) == 2 and dry["replayed"] == []
    assert len(asyncio.run(_records(kafka_bootstrap, topic))) == 2  # nothing sent

    replayed = _dlq(kafka_bootstrap, "replay", "--service", service)
    assert len(replayed["replayed"]) == 2
    records = asyncio.run(_records(kafka_bootstrap, topic))
    assert records[2:] == records[:2] == [(b"item-1", EXAMPLE), (b"item-2", NOT_UTF8)]

    again = _dlq(kafka_bootstrap, "replay", "--service", service)
    assert again["replayed"] == [] and again["already_replayed"] == 2
    assert len(asyncio.run(_records(kafka_bootstrap, topic))) == 4

    after = _dlq(kafka_bootstrap, "list", "--service", service)["topics"][0]
    assert (after["parked"], after["replayed"]) == (2 - 2, 2)
    shown = runner.invoke(app, ["dlq", "show", "--service", service, "--replayed", "--limit", "1",
                                "--bootstrap", kafka_bootstrap])
    assert shown.exit_code == 0 and "(replayed)" in shown.stdout and "1 more" in shown.stdout
