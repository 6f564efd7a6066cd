"""Kill classify mid-stream (SIGKILL, on the real broker) and start it again: every item is
classified and matched, none is lost, and the repeats carry the same event ids, so notify sends
the subscriber one digest holding each item once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import Item, ItemClassified, ItemDiscovered, ItemMatched, Profile, ProfileChanged
from contracts.topics import ITEMS, ITEMS_CLASSIFIED, MATCHES, PARTITIONS, PROFILES

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(420)]

N_ITEMS = 48


def _items(run: str) -> list[ItemDiscovered]:
    topics = ["atrial fibrillation and anticoagulants", "heart failure drug therapy", "hypertension control"]
    return [
        ItemDiscovered(
            producer="test",
            item=Item(
                item_id=f"doi:10.5555/crash.{run}.{n}", source_id="crash-test",
                title=f"Trial {n}: outcomes of {topics[n % 3]} in adults (cohort {run})",
                summary=f"A randomised trial of {topics[n % 3]} reporting stroke, bleeding and mortality.",
            ),
        )
        for n in range(N_ITEMS)
    ]


def _probe(run: str, n: int) -> ItemDiscovered:
    return ItemDiscovered(producer="test", item=Item(
        item_id=f"doi:10.5555/probe.{run}.{n}", source_id="crash-test",
        title="Apixaban for stroke prevention in atrial fibrillation: a randomised trial of anticoagulation",
        summary="Oral anticoagulation with apixaban reduced stroke in people with atrial fibrillation.",
    ))


class Tail:
    """Reads a whole topic in the background, as parsed events (the tests filter by their run's ids).

    From the beginning, not from "now": on a broker that has just created its topics, asking for
    the end offsets can race partition leadership and land after the first records.
    """

    def __init__(self, bootstrap: str, topic: str, model):
        self.bootstrap, self.topic, self.model, self.events = bootstrap, topic, model, []

    async def __aenter__(self):
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await self.consumer.start()
        parts = [TopicPartition(self.topic, p) for p in range(PARTITIONS[self.topic])]
        self.consumer.assign(parts)
        await self.consumer.seek_to_beginning(*parts)
        self.task = asyncio.create_task(self._run())
        return self

    async def _run(self):
        async for record in self.consumer:
            self.events.append(self.model.model_validate_json(record.value))

    async def __aexit__(self, *exc):
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.consumer.stop()


def _start_classify(bootstrap: str, data_dir, log):
    env = {
        **os.environ, "HF_HUB_OFFLINE": "1", "HORIZON_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "HORIZON_CLASSIFY_DATA_DIR": str(data_dir), "HORIZON_CLASSIFY_API_PORT": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "faststream", "run", "services.classify.main:app"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )


async def _until(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def test_classify_killed_mid_stream_loses_nothing_and_notify_sends_once(kafka_bootstrap, tmp_path):
    from services.notify.bootstrap import build_notifier
    from services.notify.settings import NotifySettings

    run = uuid.uuid4().hex[:8]
    subscriber = f"sub-crash-{run}"
    profile = ProfileChanged(
        producer="test", subscriber_id=subscriber, organisation_id="org-crash", version=1,
        profile=Profile(name="Dr Crash", email=f"crash.{run}@example.nhs.uk",
                        interests=["Anticoagulation for stroke prevention in atrial fibrillation",
                                   "Drug therapy for heart failure and hypertension"]),
    )
    items = _items(run)
    mine = {event.item.item_id for event in items}

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    log = (tmp_path / "classify.log").open("wb")
    try:
        await producer.send_and_wait(PROFILES, profile.model_dump_json().encode(), key=subscriber.encode())
        async with Tail(kafka_bootstrap, ITEMS_CLASSIFIED, ItemClassified) as classified, \
                Tail(kafka_bootstrap, MATCHES, ItemMatched) as matched:
            first = _start_classify(kafka_bootstrap, tmp_path / "classify", log)
            done = lambda: {e.item.item_id for e in classified.events} & mine  # noqa: E731

            async def publish(events):
                for event in events:
                    await producer.send_and_wait(ITEMS, event.model_dump_json().encode(),
                                                 key=event.item.item_id.encode())
                    await asyncio.sleep(0.1)

            # Profiles and items travel on different topics, in no order between them: send probe
            # items until one matches, so the profile is known to be in the index before the stream.
            probe = 0
            while not any(m.subscriber_id == subscriber for m in matched.events):
                assert probe < 60, "classify never applied the profile"
                event = _probe(run, probe)
                await producer.send_and_wait(ITEMS, event.model_dump_json().encode(), key=event.item.item_id.encode())
                probe += 1
                await asyncio.sleep(3)
            await publish(items[:4])
            await _until(lambda: len(done()) >= 4, 240, "classify to get going")
            # Then a stream: small batches, and the kill lands while it flows.
            streaming = asyncio.create_task(publish(items[4:]))
            await _until(lambda: len(done()) >= 12, 120, "the stream to flow")
            first.send_signal(signal.SIGKILL)
            first.wait()
            assert len(done()) < N_ITEMS, "classify finished before the kill; the test proves nothing"
            await streaming

            second = _start_classify(kafka_bootstrap, tmp_path / "classify", log)
            try:
                await _until(lambda: done() == mine, 240, "every item classified after the restart")
                await asyncio.sleep(2)  # let the matches of the last batch arrive
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(timeout=60)
            seen = [e for e in classified.events if e.item.item_id in mine]
            my_matches = [m for m in matched.events if m.subscriber_id == subscriber and m.item_id in mine]
    finally:
        await producer.stop()
        log.close()

    # Repeats after the crash are the same events (same ids), never different ones.
    by_item: dict[str, set[str]] = {}
    for event in seen:
        by_item.setdefault(event.item.item_id, set()).add(event.event_id)
    assert all(len(ids) == 1 for ids in by_item.values())
    assert {m.item_id for m in my_matches}, "the profile matched nothing"
    assert len({(m.item_id, m.event_id) for m in my_matches}) == len({m.item_id for m in my_matches})

    # notify, fed everything including the repeats, sends one digest with each item once.
    notifier = build_notifier(NotifySettings(database_url=f"sqlite:///{tmp_path / 'notify.db'}",
                                             outbox_dir=tmp_path / "outbox", dev=True))
    try:
        notifier.handle(profile)
        for event in [*seen, *my_matches]:
            notifier.handle(event)
        sent = notifier.run_due(datetime_now(), force=True)
        again = notifier.run_due(datetime_now(), force=False)
    finally:
        notifier.close()
    digests = [d for d in sent if d.kind == "digest" and d.subscriber_id == subscriber]
    assert len(digests) == 1 and again == []
    assert len(digests[0].item_ids) == len(set(digests[0].item_ids))
    assert set(digests[0].item_ids) <= {m.item_id for m in my_matches}


def datetime_now():
    from contracts import utcnow

    return utcnow()
