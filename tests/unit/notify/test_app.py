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
