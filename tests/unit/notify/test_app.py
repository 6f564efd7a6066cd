"""The FastStream app's wiring: contract payloads in, DigestSent and FeedbackGiven out (TestKafkaBroker)."""

from __future__ import annotations

from faststream import TestApp
from faststream.kafka import TestKafkaBroker

from contracts import DigestSent, FeedbackGiven
from contracts.topics import DIGESTS, FEEDBACK, ITEMS_CLASSIFIED, MATCHES, PROFILES
from services.notify.app import create_app
from services.notify.deliveries import DeliveryLog
from services.notify.tables import FeedbackRow


async def test_events_in_digest_and_feedback_out(settings, ev) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"send_immediately": True, "scheduler_interval_s": 3600}))
    digests: list[DigestSent] = []
    feedback: list[FeedbackGiven] = []

    @app.broker.subscriber(DIGESTS, group_id="test-digests")
    async def got_digest(event: DigestSent) -> None:
        digests.append(event)

    @app.broker.subscriber(FEEDBACK, group_id="test-feedback")
    async def got_feedback(event: FeedbackGiven) -> None:
        feedback.append(event)

    async with TestKafkaBroker(app.broker) as broker, TestApp(app):
        profile = ev.profile("asha")
        await broker.publish(profile, topic=PROFILES, key=b"asha")
        await broker.publish(profile, topic=PROFILES, key=b"asha")  # redelivered: no effect
        await broker.publish(ev.matched("asha", "doi:1"), topic=MATCHES, key=b"asha")
        await broker.publish(ev.classified("doi:1"), topic=ITEMS_CLASSIFIED, key=b"doi:1")
        await app.notify_tick()  # type: ignore[attr-defined]
        notifier = app.notify_state["notifier"]  # type: ignore[attr-defined]
        DeliveryLog(notifier.store).record_feedback(FeedbackRow(
            event_id="fb-1", subscriber_id="asha", organisation_id="org-1", item_id="doi:1",
            digest_id=digests[0].digest_id, verdict="useful", occurred_at=digests[0].sent_at,
        ))
        await app.notify_tick()  # type: ignore[attr-defined]

    assert [(d.subscriber_id, d.kind, d.item_ids) for d in digests] == [("asha", "digest", ["doi:1"])]
    assert [(f.event_id, f.verdict) for f in feedback] == [("fb-1", "useful")]
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1


async def test_unrouted_out_and_routed_in(settings, ev) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from contracts import EvidenceType, ItemRouted, ItemUnrouted, utcnow
    from contracts.topics import ROUTED, UNROUTED

    app = create_app(settings.model_copy(update={"scheduler_interval_s": 3600, "unrouted_grace_s": 600}))
    unrouted: list[ItemUnrouted] = []
    digests: list[DigestSent] = []

    @app.broker.subscriber(UNROUTED, group_id="test-unrouted")
    async def got_unrouted(event: ItemUnrouted) -> None:
        unrouted.append(event)

    @app.broker.subscriber(DIGESTS, group_id="test-digests")
    async def got_digest(event: DigestSent) -> None:
        digests.append(event)

    async with TestKafkaBroker(app.broker) as broker, TestApp(app):
        await broker.publish(ev.profile("ward"), topic=PROFILES, key=b"ward")
        alert = ev.classified("alert:bed", title="Bed rails alert", evidence=EvidenceType.safety_alert, urgent=True,
                              at=utcnow() - timedelta(hours=1))
        await broker.publish(alert, topic=ITEMS_CLASSIFIED, key=b"alert:bed")
        await app.notify_tick()  # type: ignore[attr-defined]
        await app.notify_tick()  # type: ignore[attr-defined]  (reported once)
        routed = ItemRouted(producer="subscriptions", item_id="alert:bed", organisation_id="org-1", subscriber_ids=["ward"])
        await broker.publish(routed, topic=ROUTED, key=b"alert:bed")
        await app.notify_tick()  # type: ignore[attr-defined]

    assert [(u.item_id, u.title) for u in unrouted] == [("alert:bed", "Bed rails alert")]
    assert [(d.subscriber_id, d.kind, d.item_ids) for d in digests] == [("ward", "alert", ["alert:bed"])]
