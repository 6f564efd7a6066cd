"""classify scaled out on the real broker: two profile shards match what one process matches.

One process (all profiles) runs first on a set of profiles and items; then two shards, each owning
half of the profiles topic's partitions and reading every item, start fresh on the same topics.
For this run's items, the two shards publish the same ItemMatched events as the one process,
each exactly once and none missing, and one ItemClassified per item.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from contracts import Item, ItemClassified, ItemDiscovered, ItemMatched, Profile, ProfileChanged
from contracts.topics import ITEMS, ITEMS_CLASSIFIED, MATCHES, PROFILES
from services.common.kafka import KafkaSettings

from .test_crash_restart import Tail

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(420)]

STATEMENTS = [
    "Anticoagulation for stroke prevention in atrial fibrillation",
    "Drug treatment of heart failure",
    "Preventing falls in older people in hospital",
    "Antibiotic prescribing and antimicrobial stewardship",
    "Insulin and glucose control in type 2 diabetes",
]
ITEMS_TEXT = [
    ("Apixaban versus warfarin for stroke prevention in atrial fibrillation",
     "Oral anticoagulation with apixaban reduced stroke and major bleeding in people with atrial fibrillation."),
    ("Sacubitril-valsartan in chronic heart failure with reduced ejection fraction",
     "Drug treatment with sacubitril-valsartan lowered death and admissions for heart failure."),
    ("A multifactorial falls prevention bundle on older people's wards",
     "Falls per 1,000 bed days fell after the bundle was introduced on hospital wards for older people."),
    ("Antimicrobial stewardship rounds and broad-spectrum antibiotic use",
     "Prescribing of broad-spectrum antibiotics fell after weekly stewardship rounds in a teaching hospital."),
    ("Once-weekly insulin in type 2 diabetes", "Weekly basal insulin gave glucose control like daily insulin."),
    ("Hospital car park charges and visitor satisfaction", "A survey of visitors about parking fees."),
]


async def _until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


async def test_two_shards_publish_the_matches_one_process_publishes_each_once(kafka_bootstrap, tmp_path):
    from faststream.kafka import KafkaBroker

    from services.classify.app import create_app
    from services.classify.bootstrap import build_classifier
    from services.classify.embedder import Embedder
    from services.classify.settings import ClassifySettings

    run = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, retry_backoff_s=0.1)
    embedder = Embedder()  # one model for the three processes' classifiers
    subscribers = [f"shard-{run}-{n:02d}" for n in range(40)]
    events = [ProfileChanged(producer="test", subscriber_id=s, organisation_id="o", version=1,
                             profile=Profile(name=s, email=f"{s}@example.org",
                                             interests=[STATEMENTS[n % 5], STATEMENTS[(n * 3) % 5]][: 1 + n % 2]))
              for n, s in enumerate(subscribers)]
    items = [ItemDiscovered(producer="test", event_id=f"ev-{run}-{n}",
                            item=Item(item_id=f"doi:10.7/{run}.{n}", source_id="src", title=t, summary=a))
             for n, (t, a) in enumerate(ITEMS_TEXT)]
    item_ids = {i.item.item_id for i in items}
    ours = set(subscribers)  # other tests' profiles share the broker's profiles topic

    def app(shard: int, shards: int):
        settings = ClassifySettings(data_dir=tmp_path / f"c{shard}of{shards}", api_port=0, shard=shard, shards=shards)
        return create_app(settings, kafka, classifier=build_classifier(settings, embedder))

    def classified_all(apps) -> bool:
        return all(len(a.classify_state["classifier"].recent.find("item_id", sorted(item_ids))) == len(item_ids)
                   for a in apps)

    async with KafkaBroker(kafka_bootstrap) as producer, Tail(kafka_bootstrap, MATCHES, ItemMatched) as matches, \
            Tail(kafka_bootstrap, ITEMS_CLASSIFIED, ItemClassified) as classified:
        for e in events:
            await producer.publish(e, topic=PROFILES, key=e.subscriber_id.encode())
        single = app(0, 1)
        await single.start()
        try:
            held = lambda: all(s in single.classify_state["classifier"].table.subscribers for s in subscribers)  # noqa: E731
            await _until(held, 120, "the single process holding every profile")
            for e in items:
                await producer.publish(e, topic=ITEMS, key=e.item.item_id.encode())
            await _until(lambda: classified_all([single]), 120, "the single process classifying the items")
        finally:
            await single.stop()
        await asyncio.sleep(3)  # the tails read what it published
        one = [(m.item_id, m.subscriber_id) for m in matches.events if m.item_id in item_ids and m.subscriber_id in ours]
        first_classified = [c.item.item_id for c in classified.events if c.item.item_id in item_ids]
        shards = [app(0, 2), app(1, 2)]
        for a in shards:
            await a.start()
        try:
            await _until(lambda: classified_all(shards), 240, "both shards classifying the items")
            owned = [set(a.classify_state["classifier"].table.subscribers) & set(subscribers) for a in shards]
            assert owned[0] and owned[1] and not owned[0] & owned[1] and owned[0] | owned[1] == set(subscribers)
        finally:
            for a in shards:
                await a.stop()
        await asyncio.sleep(3)
        both = [(m.item_id, m.subscriber_id) for m in matches.events if m.item_id in item_ids and m.subscriber_id in ours]
        all_classified = [c.item.item_id for c in classified.events if c.item.item_id in item_ids]
    two = both[len(one):]
    assert len(one) >= 20 and len(set(one)) == len(one)  # the single process: every pair once
    assert sorted(two) == sorted(one)  # the shards: the same pairs, each exactly once, none missing
    assert sorted(first_classified) == sorted(item_ids)
    assert sorted(all_classified[len(first_classified):]) == sorted(item_ids)  # shard 0 alone publishes them
