"""Retries on the real broker: a handler whose SQLite database is held locked by another connection
is tried again until the lock goes, stays in its consumer group meanwhile (longer than its
max_poll_interval_ms), and parks nothing; a poison record goes to the dead-letter topic alone."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRebalanceListener
from faststream import AckPolicy
from sqlalchemy import create_engine, text
from starlette.concurrency import run_in_threadpool

import contracts
from contracts import DeadLetter, ItemDiscovered
from contracts.topics import dead_letter_topic
from horizon.dlq.broker import read_parked
from services.common.counters import DeliveryCounters
from services.common.kafka import KafkaSettings, batch_decoder, make_broker

pytestmark = pytest.mark.kafka

EXAMPLE = json.loads((Path(contracts.__file__).parent / "examples" / "item_discovered.json").read_text())


async def eventually(check, rounds: int = 1200) -> bool:
    """Wait (asserting no duration) until `check()` holds."""
    for _ in range(rounds):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def _produce(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def read_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Every letter on a dead-letter topic (none when it was never created), read as `horizon dlq` does."""
    letters, _ = await read_parked(bootstrap)
    return [p.letter for p in letters if p.dead_letter_topic == topic]


class Revocations(ConsumerRebalanceListener):
    def __init__(self) -> None:
        self.revoked: list[set] = []

    async def on_partitions_revoked(self, revoked) -> None:
        if revoked:
            self.revoked.append(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        pass


async def test_a_locked_database_is_waited_out_in_the_group_and_nothing_is_parked(kafka_bootstrap, tmp_path):
    run = uuid.uuid4().hex[:8]
    topic, service = f"test.retry.{run}", f"retry{run}"
    path = tmp_path / "notify.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})  # a short busy timeout
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE seen (event_id TEXT PRIMARY KEY)"))
    stored: list[str] = []

    def store(event: ItemDiscovered) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO seen VALUES (:e)"), {"e": event.event_id})
        stored.append(event.event_id)

    counters = DeliveryCounters()
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, retry_backoff_s=0.1, retry_backoff_max_s=0.5,
                          transient_deadline_s=600)
    broker = make_broker(service, kafka, counters=counters)
    listener = Revocations()

    # max_poll_interval_ms far below the lock's hold: a consumer that did not poll while it
    # waited would be put out of its group, and the message read (and stored) twice.
    @broker.subscriber(topic, group_id=service, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest",
                       max_poll_interval_ms=2000, listener=listener)
    async def handle(event: ItemDiscovered) -> None:
        await run_in_threadpool(store, event)

    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the database
    async with broker:
        await broker.start()
        await _produce(kafka_bootstrap, topic, json.dumps(EXAMPLE).encode())
        assert await eventually(lambda: counters.retries[(service, topic)] >= 3)
        await asyncio.sleep(3 * 2)  # hold the lock past max_poll_interval_ms more than once
        retries_while_locked = counters.retries[(service, topic)]
        locker.execute("ROLLBACK")
        assert await eventually(lambda: stored == [EXAMPLE["event_id"]])
        await asyncio.sleep(1)  # room for a second (wrong) delivery to show itself
        revoked_while_running = list(listener.revoked)
    locker.close()

    assert stored == [EXAMPLE["event_id"]] and retries_while_locked >= 3
    assert revoked_while_running == []
    assert counters.parks == {}
    assert await read_letters(kafka_bootstrap, dead_letter_topic(topic, service)) == []


async def test_a_poison_record_goes_to_the_dead_letter_topic_alone(kafka_bootstrap):
    run = uuid.uuid4().hex[:8]
    topic, service = f"test.poison.{run}", f"poison{run}"
    counters = DeliveryCounters()
    broker = make_broker(service, KafkaSettings(bootstrap_servers=kafka_bootstrap, retry_backoff_s=0.1),
                         counters=counters)
    handled: list[str] = []

    @broker.subscriber(topic, group_id=service, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest",
                       batch=True, batch_timeout_ms=200,
                       decoder=batch_decoder(service, ItemDiscovered, lambda: broker))
    async def handle(events: list[ItemDiscovered]) -> None:
        handled.extend(e.event_id for e in events)

    other = {**EXAMPLE, "event_id": f"other-{run}"}
    async with broker:
        await broker.start()
        await _produce(kafka_bootstrap, topic, json.dumps(EXAMPLE).encode(), b"{broken", json.dumps(other).encode())
        assert await eventually(lambda: len(handled) == 2 and counters.parks[(service, topic)] == 1)

    letters = await read_letters(kafka_bootstrap, dead_letter_topic(topic, service))
    assert [(letter.body, letter.attempts, letter.reason[:6]) for letter in letters] == [("{broken", 1, "poison")]
    assert letters[0].topic == topic and letters[0].offset == 1 and letters[0].key == "k"
    assert sorted(handled) == sorted([EXAMPLE["event_id"], other["event_id"]])
    assert counters.retries == {}


async def test_a_consumer_stopped_while_it_waits_leaves_the_message_to_the_next_start(kafka_bootstrap, tmp_path):
    run = uuid.uuid4().hex[:8]
    topic, service = f"test.stop.{run}", f"stop{run}"
    path = tmp_path / "notify.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE seen (event_id TEXT PRIMARY KEY)"))
    stored: list[str] = []

    def store(event: ItemDiscovered) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO seen VALUES (:e)"), {"e": event.event_id})
        stored.append(event.event_id)

    def start(counters: DeliveryCounters):
        kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, retry_backoff_s=2, retry_backoff_max_s=2)
        broker = make_broker(service, kafka, counters=counters)

        @broker.subscriber(topic, group_id=service, ack_policy=AckPolicy.ACK, auto_offset_reset="earliest")
        async def handle(event: ItemDiscovered) -> None:
            await run_in_threadpool(store, event)

        return broker

    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    first = DeliveryCounters()
    async with start(first) as broker:
        await broker.start()
        await _produce(kafka_bootstrap, topic, json.dumps(EXAMPLE).encode())
        assert await eventually(lambda: first.retries[(service, topic)] >= 2)
    locker.execute("ROLLBACK")  # the database is back, but this consumer has stopped
    locker.close()

    second = DeliveryCounters()
    async with start(second) as broker:
        await broker.start()
        assert await eventually(lambda: stored == [EXAMPLE["event_id"]])

    assert stored == [EXAMPLE["event_id"]] and first.parks == second.parks == {}
    assert await read_letters(kafka_bootstrap, dead_letter_topic(topic, service)) == []
