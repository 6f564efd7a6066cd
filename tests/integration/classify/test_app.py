"""The FastStream wiring: profiles and items in, ItemClassified and ItemMatched out (TestKafkaBroker)."""

from __future__ import annotations

from faststream.kafka import TestKafkaBroker

from contracts import derived_event_id
from contracts.topics import ITEMS, ITEMS_CLASSIFIED, MATCHES, PROFILES
from services.classify.app import create_app
from services.classify.settings import ClassifySettings

from .conftest import item_event, profile_event


async def test_items_and_profiles_flow_through_the_app(classifier):
    app = create_app(ClassifySettings(api_port=0), classifier=classifier)
    broker = app.broker
    got: dict[str, list] = {"classified": [], "matched": []}

    @broker.subscriber(ITEMS_CLASSIFIED)
    async def on_classified(body: dict) -> None:
        got["classified"].append(body)

    @broker.subscriber(MATCHES)
    async def on_matched(body: dict) -> None:
        got["matched"].append(body)

    async with TestKafkaBroker(broker) as br:
        profile = profile_event("s1", interests=["Anticoagulation for stroke prevention in atrial fibrillation"])
        await br.publish(profile, topic=PROFILES, key=b"s1")
        item = item_event("doi:10.1/af", "Apixaban versus warfarin for stroke prevention in atrial fibrillation",
                          "Anticoagulation with apixaban reduced stroke in atrial fibrillation.")
        await br.publish_batch(item, topic=ITEMS)
    assert [c["item"]["item_id"] for c in got["classified"]] == ["doi:10.1/af"]
    assert [(m["subscriber_id"], m["event_id"]) for m in got["matched"]] == [
        ("s1", derived_event_id(item.event_id, "s1"))
    ]
