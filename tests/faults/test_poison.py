"""Fault 5: poison records on every partition of every consumed topic, among the run's valid ones.

Three kinds of poison, each on every partition of each topic a service consumes (items,
classified items, matches, profiles, feedback, digests, unrouted and routed items): bytes that
are not UTF-8, JSON that is no event, and another topic's event (which fails this topic's schema). They go in twice: before
the run (its profiles, works, matches and digests come after them), and while it flows, with
classify paused so that its next batch holds valid works on both sides of the poison.

Every poison record is parked on its dead-letter topic by each of its topic's consumers, with
its own topic, partition and offset; every valid message around them is delivered, none is
parked, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

import contracts
from contracts.topics import (CONSUMERS, DIGESTS, EVENT_TYPES, FEEDBACK, ITEMS, ITEMS_CLASSIFIED, MATCHES, PARTITIONS,
                             PROFILES, ROUTED, UNROUTED, dead_letter_topic)
from tests.faults.ledger import assert_nothing_lost, until
from tests.faults.report import row
from tests.faults.scenario import fault_run, subscribe
from tests.faults.settings import FaultSettings

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(FaultSettings().timeout_s(0))]

EXAMPLES = Path(contracts.__file__).parent / "examples"
#: For each consumed topic, an example of another topic's event that its schema refuses.
WRONG_EVENT = {ITEMS: "item_matched", ITEMS_CLASSIFIED: "item_discovered", MATCHES: "profile_changed",
               PROFILES: "item_matched", FEEDBACK: "digest_sent", DIGESTS: "feedback_given",
               UNROUTED: "item_routed", ROUTED: "item_unrouted"}

Place = tuple[str, int, int]  # topic, partition, offset


def poison(topic: str, tag: str, round_: int) -> dict[str, bytes]:
    """The three poison bodies for a topic, each checked to fail the topic's schema."""
    bodies = {
        "not UTF-8": b"\xff\xfe\x00 poison " + f"{tag} {round_}".encode(),
        "no event": json.dumps({"poison": tag, "round": round_, "event_id": f"poison-{tag}"}).encode(),
        "another topic's event": (EXAMPLES / f"{WRONG_EVENT[topic]}.json").read_bytes(),
    }
    for kind, body in bodies.items():
        try:
            EVENT_TYPES[topic].model_validate_json(body)
        except ValidationError:
            continue
        raise AssertionError(f"the {kind} poison for {topic} is a valid {EVENT_TYPES[topic].__name__}")
    return bodies


async def inject(bootstrap: str, tag: str, round_: int) -> dict[Place, str]:
    """Every kind of poison on every partition of every consumed topic; where each went."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id=f"faults-poison-{tag}")
    await producer.start()
    sent: dict[Place, str] = {}
    try:
        for topic in sorted(CONSUMERS):
            for kind, body in poison(topic, tag, round_).items():
                for partition in range(PARTITIONS[topic]):
                    key = f"poison-{tag}-{round_}-{partition}-{kind}".encode()  # keyed: profiles are compacted
                    meta = await producer.send_and_wait(topic, body, key=key, partition=partition)
                    sent[(topic, partition, meta.offset)] = kind
    finally:
        await producer.stop()
    return sent


async def test_poison_records_are_parked_and_the_valid_ones_around_them_delivered(up, report):
    classify = up.services["classify"]
    async with fault_run(up, "poison", subscribed=False) as (run, ledger):
        topics, bootstrap = ledger.topics, up.broker.bootstrap
        third = len(run.works) // 3
        a, b, c = run.works[:third], run.works[third:2 * third], run.works[2 * third:]
        published = lambda works: {w.item_id for w in works} <= {e.item.item_id for e in topics.items.events}  # noqa: E731

        # round 1, before the run: its profiles, works, matches and digests all come after the poison
        sent = await inject(bootstrap, run.tag, 1)
        await subscribe(run)
        run.add_source("a", a)
        await until(lambda: {(w.item_id, s) for w in a for s, i in run.subscribers.items() if i == w.interest}
                    <= {(m.item_id, m.subscriber_id) for m in topics.matches.events}, up.settings.deadline_s,
                    "the first works' matches")

        # round 2, mid-stream: classify paused, so that its next batch holds works on both sides of the poison
        classify.freeze()
        try:
            run.add_source("b", b)
            await until(lambda: published(b), up.settings.deadline_s, "the second source's works to be published")
            sent |= await inject(bootstrap, run.tag, 2)
            run.add_source("c", c)
            await until(lambda: published(c), up.settings.deadline_s, "the third source's works to be published")
        finally:
            classify.thaw()
        run.touch_subscribers("changed after the poison")  # valid profiles after the second round too
        account = await ledger.settle()

        owed = {(consumer, *place) for place in sent for consumer in CONSUMERS[place[0]]}
        deadline = time.monotonic() + up.settings.deadline_s
        while not owed <= set(_letters(account)) and time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            account = await ledger.account()
    parked = _letters(account)
    report(row("5. poison records on every consumed topic", account, run.item_ids, ledger.duration_s,
               note=f"{len(sent)} poison records, {sum(parked.values())} letters, all poison"))
    assert_nothing_lost(account, run, letters=True)
    assert all(p.letter is not None for p in account.letters), "a record on a dead-letter topic is no letter"
    assert set(parked) - owed == set(), "a valid message was dead-lettered"
    assert owed - set(parked) == set(), "a poison record was not parked by each of its consumers"
    assert set(parked.values()) == {1}, "a poison record was parked twice by the same consumer"
    bad = [p.place for p in account.letters
           if p.letter and p.dead_letter_topic != dead_letter_topic(p.letter.topic, p.letter.consumer)]
    assert bad == [], "a letter is on another consumer's or topic's dead-letter topic"
    for version in (1, 2):  # the valid profiles on both sides of the poison
        got = {e.subscriber_id for e in topics.profiles.events if e.subscriber_id in run.subscribers and e.version == version}
        assert got == set(run.subscribers), f"profile version {version} missing"


def _letters(account) -> Counter[tuple[str, str, int, int]]:  # type: ignore[no-untyped-def]
    """(consumer, topic, partition, offset) of each letter parked since the run began."""
    return Counter((p.letter.consumer, p.letter.topic, p.letter.partition, p.letter.offset)
                   for p in account.letters if p.letter is not None)

