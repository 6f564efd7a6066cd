"""Poison messages are parked on a dead-letter topic with their error; a dependency that is down is
waited for; unknown errors are tried a few times. Time is a fake clock: nothing sleeps for real."""

from __future__ import annotations

import json
from pathlib import Path

from faststream import AckPolicy
from faststream.kafka import TestKafkaBroker

import contracts
from contracts import DeadLetter, ItemDiscovered
from contracts.topics import ITEMS, dead_letter_topic
from services.common.counters import DeliveryCounters
from services.common.errors import RuleViolation
from services.common.kafka import KafkaSettings, batch_decoder, make_broker

EXAMPLE = json.loads((Path(contracts.__file__).parent / "examples" / "item_discovered.json").read_text())


def _wire(broker, handler):
    letters: list[DeadLetter] = []
    broker.subscriber(ITEMS, group_id="classify", ack_policy=AckPolicy.ACK)(handler)

    @broker.subscriber(dead_letter_topic(ITEMS, "classify"))
    async def collect(letter: DeadLetter) -> None:
        letters.append(letter)

    return letters


async def test_undecodable_and_invalid_messages_are_dead_lettered_with_their_error():
    broker = make_broker("classify", KafkaSettings(retry_backoff_s=0))
    received: list[ItemDiscovered] = []

    async def handle(event: ItemDiscovered) -> None:
        received.append(event)

    letters = _wire(broker, handle)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"\xff not json", topic=ITEMS, key=b"k1")
        await test_broker.publish({"item": {"title": "no id"}}, topic=ITEMS)
        await test_broker.publish(EXAMPLE, topic=ITEMS)

    assert [e.item.item_id for e in received] == [EXAMPLE["item"]["item_id"]]
    assert len(letters) == 2
    assert all(letter.consumer == "classify" and letter.topic == ITEMS for letter in letters)
    assert all(letter.error.startswith("ValidationError") for letter in letters)
    assert "not json" in letters[0].body and letters[0].key == "k1"


async def test_transient_failure_is_retried_then_succeeds():
    broker = make_broker("classify", KafkaSettings(retry_backoff_s=0, retry_attempts=3))
    calls: list[str] = []

    async def flaky(event: ItemDiscovered) -> None:
        calls.append(event.event_id)
        if len(calls) < 2:
            raise ConnectionError("database restarting")

    letters = _wire(broker, flaky)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(EXAMPLE, topic=ITEMS)

    assert len(calls) == 2 and letters == []


async def test_one_poison_record_in_a_batch_is_parked_alone_and_the_valid_ones_are_handled():
    broker = make_broker("classify", KafkaSettings(retry_backoff_s=0))
    batches: list[list[ItemDiscovered]] = []
    letters: list[DeadLetter] = []

    @broker.subscriber(
        ITEMS, group_id="classify", ack_policy=AckPolicy.ACK, batch=True,
        decoder=batch_decoder("classify", ItemDiscovered, lambda: broker),
    )
    async def handle(events: list[ItemDiscovered]) -> None:
        batches.append(events)

    @broker.subscriber(dead_letter_topic(ITEMS, "classify"))
    async def collect(letter: DeadLetter) -> None:
        letters.append(letter)

    other = {**EXAMPLE, "event_id": "another", "item": {**EXAMPLE["item"], "item_id": "doi:10.5555/x"}}
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(EXAMPLE, b"{broken", other, topic=ITEMS)

    assert [[e.item.item_id for e in batch] for batch in batches] == [[EXAMPLE["item"]["item_id"], "doi:10.5555/x"]]
    assert len(letters) == 1 and "broken" in letters[0].body


class FakeClock:
    """Time that moves only when someone sleeps; `down_until` lets a fake dependency come back."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Database:
    """A fake dependency: locked (sqlite's OperationalError, as notify saw it) until `back_at`."""

    def __init__(self, clock: FakeClock, back_at: float) -> None:
        self.clock, self.back_at, self.calls, self.stored = clock, back_at, 0, []

    def store(self, event) -> None:
        from sqlite3 import OperationalError as SqliteError

        from sqlalchemy.exc import OperationalError

        self.calls += 1
        if self.clock.now < self.back_at:
            raise OperationalError("INSERT", {}, SqliteError("database is locked"))
        self.stored.append(event.event_id)


def _broker(clock: FakeClock, **settings):
    counters = DeliveryCounters()
    kafka = KafkaSettings(**{"retry_backoff_s": 1, "retry_backoff_max_s": 60, **settings})
    return make_broker("classify", kafka, clock=clock, counters=counters), counters


async def test_a_database_locked_for_two_hours_is_waited_out_and_nothing_is_parked():
    clock = FakeClock()
    db = Database(clock, back_at=2 * 3600)
    broker, counters = _broker(clock)

    async def handle(event: ItemDiscovered) -> None:
        db.store(event)

    letters = _wire(broker, handle)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(EXAMPLE, topic=ITEMS)

    assert letters == [] and db.stored == [EXAMPLE["event_id"]]
    assert clock.now >= 2 * 3600 and max(clock.slept) == 60  # backed off, capped
    assert counters.retries[("classify", ITEMS)] == db.calls - 1 and counters.parks == {}


async def test_a_dependency_down_past_the_deadline_is_parked_with_that_reason():
    clock = FakeClock()
    db = Database(clock, back_at=float("inf"))
    broker, counters = _broker(clock, transient_deadline_s=600)

    async def handle(event: ItemDiscovered) -> None:
        db.store(event)

    letters = _wire(broker, handle)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(EXAMPLE, topic=ITEMS)

    [letter] = letters
    assert letter.error.startswith("OperationalError") and "deadline 600s" in letter.reason
    assert letter.attempts == db.calls and clock.now >= 600
    assert counters.parks[("classify", ITEMS)] == 1


async def test_an_unknown_error_is_tried_a_bounded_number_of_times_then_parked_with_its_class():
    clock = FakeClock()
    broker, counters = _broker(clock, retry_attempts=3)
    calls: list[str] = []

    async def broken(event: ItemDiscovered) -> None:
        calls.append(event.event_id)
        raise RuntimeError("a bug")

    letters = _wire(broker, broken)
    seen = []
    counters.subscribe(seen.append)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(EXAMPLE, topic=ITEMS)

    assert len(calls) == 3
    assert [(letter.attempts, letter.error, letter.reason) for letter in letters] == [
        (3, "RuntimeError: a bug", "unknown error, tried 3 times")]
    assert [(e.what, e.error_class, e.attempt) for e in seen] == [
        ("retry", "RuntimeError", 1), ("retry", "RuntimeError", 2), ("park", "RuntimeError", 3)]


async def test_a_message_that_breaks_a_rule_is_parked_at_once():
    clock = FakeClock()
    broker, _ = _broker(clock)
    calls: list[str] = []

    async def strict(event: ItemDiscovered) -> None:
        calls.append(event.event_id)
        raise RuleViolation("an item from the future")

    letters = _wire(broker, strict)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(EXAMPLE, topic=ITEMS)

    assert len(calls) == 1 and clock.slept == []
    assert [(letter.error, letter.reason[:6]) for letter in letters] == [
        ("RuleViolation: an item from the future", "poison")]


async def test_a_batch_handler_waits_out_its_dependency_and_its_poison_record_is_parked_alone():
    clock = FakeClock()
    db = Database(clock, back_at=300)
    broker, counters = _broker(clock)
    letters: list[DeadLetter] = []

    @broker.subscriber(ITEMS, group_id="classify", ack_policy=AckPolicy.ACK, batch=True,
                       decoder=batch_decoder("classify", ItemDiscovered, lambda: broker))
    async def handle(events: list[ItemDiscovered]) -> None:
        for event in events:
            db.store(event)

    @broker.subscriber(dead_letter_topic(ITEMS, "classify"))
    async def collect(letter: DeadLetter) -> None:
        letters.append(letter)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(EXAMPLE, b"\xff\xfe not utf-8", topic=ITEMS)

    assert db.stored == [EXAMPLE["event_id"]]
    [letter] = letters
    assert letter.reason.startswith("poison") and letter.original_value() == b"\xff\xfe not utf-8"
    assert counters.parks[("classify", ITEMS)] == 1 and counters.retries[("classify", ITEMS)] >= 1
