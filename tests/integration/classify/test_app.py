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


async def test_a_batch_whose_publish_failed_publishes_everything_when_it_is_tried_again(classifier):
    """The broker refuses a match (it is down): the batch is tried again, and although the
    classifier skips events it has handled, every classification and match still goes out."""
    from aiokafka.errors import KafkaConnectionError

    from services.common.kafka import KafkaSettings

    app = create_app(ClassifySettings(api_port=0), classifier=classifier, kafka=KafkaSettings(retry_backoff_s=0))
    broker = app.broker
    got: dict[str, list] = {"classified": [], "matched": []}

    @broker.subscriber(ITEMS_CLASSIFIED)
    async def on_classified(body: dict) -> None:
        got["classified"].append(body["item"]["item_id"])

    @broker.subscriber(MATCHES)
    async def on_matched(body: dict) -> None:
        got["matched"].append((body["item_id"], body["subscriber_id"]))

    async with TestKafkaBroker(broker) as br:
        for sid in ("s1", "s2"):
            await br.publish(profile_event(sid, interests=["Anticoagulation for stroke prevention in atrial fibrillation"]),
                             topic=PROFILES, key=sid.encode())
        producer = broker.config.broker_config.producer
        publish, refused = producer.publish, []

        async def down_once(cmd):  # the second match of the batch: the broker is gone
            if cmd.destination == MATCHES and len(got["matched"]) == 1 and not refused:
                refused.append(cmd)
                raise KafkaConnectionError("broker down")
            return await publish(cmd)

        producer.publish = down_once
        items = [item_event(f"doi:10.1/af{n}", "Apixaban versus warfarin for stroke prevention in atrial fibrillation",
                            "Anticoagulation with apixaban reduced stroke in atrial fibrillation.") for n in (1, 2)]
        await br.publish_batch(*items, topic=ITEMS)
    assert refused, "the broker never refused a publish: the test proves nothing"
    assert sorted(set(got["classified"])) == ["doi:10.1/af1", "doi:10.1/af2"]
    assert sorted(set(got["matched"])) == [(f"doi:10.1/af{n}", s) for n in (1, 2) for s in ("s1", "s2")]
