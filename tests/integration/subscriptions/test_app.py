"""The FastStream app: the outbox relay publishes ProfileChanged; DigestSent and FeedbackGiven become
reach and engagement. Wiring with TestKafkaBroker; the relay once more against the real broker."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from faststream import TestApp
from faststream.kafka import KafkaMessage, TestKafkaBroker

from contracts import DigestSent, FeedbackGiven, ProfileChanged
from contracts.topics import DIGESTS, FEEDBACK, PROFILES
from services.common.kafka import KafkaSettings
from services.subscriptions import engagement, outbox, usecases
from services.subscriptions.accounts import ensure_organisation
from services.subscriptions.app import create_app
from services.subscriptions.schemas import SubscriberCreate

from .test_papers import server  # noqa: F401  (a local server answering as PubMed and Crossref)


async def eventually(check, rounds: int = 400):
    """Wait (without asserting any duration) until the app has done its work."""
    for _ in range(rounds):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


def _subscriber(sessions) -> tuple[str, str]:
    with sessions() as session:
        org = ensure_organisation(session, "Alpha Hospitals NHS Trust")
        sub = usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=org.id, name="Ann Lee", email="ann@example.nhs.uk", interests=["Sepsis"]))
        return org.id, sub.id


async def test_relay_and_engagement_through_the_app(settings, engine, sessions):
    org_id, sid = _subscriber(sessions)
    app = create_app(settings.model_copy(update={"relay_interval_s": 0.05}), engine=engine)
    seen: list[tuple[dict, bytes]] = []

    @app.broker.subscriber(PROFILES)
    async def on_profile(body: dict, message: KafkaMessage) -> None:
        seen.append((body, message.raw_message.key))

    async with TestKafkaBroker(app.broker) as br, TestApp(app):
        assert await eventually(lambda: len(seen) == 1)
        event = ProfileChanged.model_validate(seen[0][0])
        assert event.subscriber_id == sid and seen[0][1] == sid.encode() and event.profile.interests == ["Sepsis"]

        sent = DigestSent(producer="notify", digest_id="d1", subscriber_id=sid, organisation_id=org_id,
                          period="2026-W48", sent_at=datetime(2026, 11, 23, 7, tzinfo=timezone.utc))
        await br.publish(sent, topic=DIGESTS, key=sid.encode())
        await br.publish(sent, topic=DIGESTS, key=sid.encode())  # redelivered: counted once
        for verdict in ("click", "useful", "not_relevant", "click"):
            await br.publish(FeedbackGiven(producer="notify", subscriber_id=sid, organisation_id=org_id,
                                           item_id="doi:10.1/x", verdict=verdict), topic=FEEDBACK, key=sid.encode())
    with sessions() as session:
        counts = engagement.engagement_for(session, org_id)
    assert (counts.reach, counts.digests, counts.clicks, counts.useful, counts.not_relevant) == (1, 1, 2, 1, 1)


async def test_the_app_looks_up_example_papers_and_republishes_the_profile(settings, engine, sessions, server):
    with sessions() as session:
        org = ensure_organisation(session, "Alpha Hospitals NHS Trust")
        sid = usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=org.id, name="Ann Lee", email="ann@example.nhs.uk", interests=["Stroke prevention"],
            examples=["doi:10.1056/NEJMoa0905561"])).id
    app = create_app(settings.model_copy(update={
        "relay_interval_s": 0.05, "resolve_interval_s": 0.05,
        "pubmed_url": f"{server}/eutils", "crossref_url": f"{server}/crossref"}), engine=engine)
    seen: list[ProfileChanged] = []

    @app.broker.subscriber(PROFILES)
    async def on_profile(body: dict) -> None:
        seen.append(ProfileChanged.model_validate(body))

    async with TestKafkaBroker(app.broker), TestApp(app):
        assert await eventually(lambda: len(seen) == 2)
    assert [e.version for e in seen] == [1, 2]
    assert seen[0].profile.example_texts == [""]
    assert seen[1].profile.example_texts[0].startswith("Dabigatran versus warfarin in patients with atrial fibrillation.")


@pytest.mark.kafka
async def test_the_relay_publishes_to_the_real_broker(kafka_bootstrap, settings, engine, sessions):
    bootstrap = kafka_bootstrap
    from aiokafka import AIOKafkaConsumer

    _, sid = _subscriber(sessions)
    app = create_app(settings.model_copy(update={"relay_interval_s": 0.05}),
                     kafka=KafkaSettings(bootstrap_servers=bootstrap), engine=engine)
    consumer = AIOKafkaConsumer(PROFILES, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"subscriptions-test-{sid}")
    await consumer.start()
    try:
        async with TestApp(app):
            found = None
            for _ in range(60):
                batch = await consumer.getmany(timeout_ms=500)
                for record in (r for records in batch.values() for r in records):
                    if record.key == sid.encode():
                        found = ProfileChanged.model_validate_json(record.value)
                if found:
                    break
        assert found is not None and found.subscriber_id == sid and found.version == 1
        with sessions() as session:  # the relay finished its round on shutdown and marked it sent
            assert outbox.pending(session) == []
    finally:
        await consumer.stop()


async def test_unrouted_in_routed_out_and_requests_queued_through_the_app(settings, engine, sessions):
    from contracts import EvidenceType, ItemRouted, ItemUnrouted
    from contracts.topics import ROUTED, UNROUTED
    from services.subscriptions import requests, unrouted

    org_id, sid = _subscriber(sessions)
    app = create_app(settings.model_copy(update={"relay_interval_s": 0.05, "requests_address": "library@alpha.nhs.uk"}),
                     engine=engine)
    routed: list[tuple[dict, bytes]] = []

    @app.broker.subscriber(ROUTED)
    async def on_routed(body: dict, message: KafkaMessage) -> None:
        routed.append((body, message.raw_message.key))

    now = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    async with TestKafkaBroker(app.broker) as br, TestApp(app):
        event = ItemUnrouted(producer="notify", item_id="alert:bed", title="Bed rails alert",
                             evidence_type=EvidenceType.safety_alert, classified_at=now)
        await br.publish(event, topic=UNROUTED, key=b"alert:bed")
        await br.publish(event, topic=UNROUTED, key=b"alert:bed")  # redelivered: kept once
        await br.publish(FeedbackGiven(producer="notify", subscriber_id=sid, organisation_id=org_id, item_id="pmid:123",
                                       verdict="full_text_request", title="A trial"), topic=FEEDBACK, key=sid.encode())
        with sessions() as session:
            assert unrouted.waiting_count(session, [org_id]) == 1
            assert requests.waiting_count(session, [org_id]) == 1
            assert isinstance(unrouted.route(session, "alert:bed", org_id, [sid], "lib@alpha.nhs.uk", {org_id}),
                              unrouted.Routed)
        assert await eventually(lambda: len(routed) == 1)
    sent = ItemRouted.model_validate(routed[0][0])
    assert (sent.item_id, sent.subscriber_ids, routed[0][1]) == ("alert:bed", [sid], b"alert:bed")
