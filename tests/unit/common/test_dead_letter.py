"""Poison messages are parked on a dead-letter topic with their error; transient faults are retried."""

from __future__ import annotations

import json
from pathlib import Path

from faststream import AckPolicy
from faststream.kafka import TestKafkaBroker

import contracts
from contracts import DeadLetter, ItemDiscovered
from contracts.topics import ITEMS, dead_letter_topic
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


async def test_persistent_failure_is_parked_after_the_retry_budget():
    broker = make_broker("classify", KafkaSettings(retry_backoff_s=0, retry_attempts=3))
    calls: list[str] = []

    async def broken(event: ItemDiscovered) -> None:
        calls.append(event.event_id)
        raise ConnectionError("disk full")

    letters = _wire(broker, broken)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(EXAMPLE, topic=ITEMS)

    assert len(calls) == 3
    assert [(letter.attempts, letter.error) for letter in letters] == [(3, "ConnectionError: disk full")]


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
