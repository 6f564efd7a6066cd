"""End to end on the real Apache Kafka broker: a feed file enters through ingest, and notify
writes a digest for the subscriber whose profile matches, and nothing for the one whose does not;
her "useful" click then comes back round to classify as an example paper on her profile.

All four services run as their own FastStream apps (each its own broker connection, consumer
group and state), talking only through the versioned topics.
"""

from __future__ import annotations

import asyncio
import email
import re
import time
from email import policy
from pathlib import Path

import pytest

from services.common.kafka import KafkaSettings

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(420)]

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>E2E Journal of Cardiac Practice</title>
  <link>https://journal.example.org/</link>
  <description>End-to-end test feed</description>
  <item>
    <title>Apixaban versus warfarin for stroke prevention in older people with atrial fibrillation: a randomised trial</title>
    <link>https://journal.example.org/e2e/af-apixaban</link>
    <guid>e2e-af-apixaban-{run}</guid>
    <dc:identifier>doi:10.5555/horizon.e2e.{run}.1</dc:identifier>
    <pubDate>Thu, 19 Nov 2026 09:00:00 +0000</pubDate>
    <description>We randomly assigned 2,114 people aged 75 or over with atrial fibrillation to apixaban or
    warfarin. Stroke or systemic embolism occurred less often with apixaban, and major bleeding
    was lower. Oral anticoagulation with apixaban is preferable for stroke prevention.</description>
  </item>
  <item>
    <title>Hospital car park charges: a survey of visitor satisfaction</title>
    <link>https://journal.example.org/e2e/car-parks</link>
    <guid>e2e-car-parks-{run}</guid>
    <pubDate>Thu, 19 Nov 2026 10:00:00 +0000</pubDate>
    <description>A survey of visitors to twelve hospitals about parking fees, spaces and payment machines.</description>
  </item>
</channel>
</rss>
"""

SUBSCRIBERS = """organisation: E2E Hospitals NHS Trust {run}
subscribers:
  - name: Dr Cardio {run}
    email: cardio.{run}@example.nhs.uk
    role: Consultant cardiologist
    frequency: weekly
    interests:
      - Anticoagulation for stroke prevention in atrial fibrillation
    topics: [cardiology]
  - name: Dr Skin {run}
    email: skin.{run}@example.nhs.uk
    role: Consultant dermatologist
    frequency: weekly
    interests:
      - Isotretinoin for severe acne in adolescents
      - Biologic treatments for moderate to severe psoriasis
"""


async def _until(predicate, timeout_s: float, what: str, step_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def _messages_to(outbox: Path, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


async def test_a_feed_file_becomes_a_digest_for_the_matching_subscriber_only(kafka_bootstrap, tmp_path):
    from sqlmodel import select

    from services.classify.app import create_app as classify_app
    from services.classify.profiles import point_id
    from services.classify.settings import ClassifySettings
    from services.ingest.app import create_app as ingest_app
    from services.ingest.settings import IngestSettings
    from services.ingest.store import SqlStore
    from services.ingest.tables import SourceCreate
    from services.notify.app import create_app as notify_app
    from services.notify.settings import NotifySettings
    from services.subscriptions import store as subs_store
    from services.subscriptions import importing
    from services.subscriptions.app import create_app as subscriptions_app
    from services.subscriptions.models import Subscriber
    from services.subscriptions.settings import SubscriptionsSettings

    run = tmp_path.name.replace("_", "-")[-20:]
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, retry_backoff_s=0.1)
    outbox = tmp_path / "outbox"

    # subscriptions: two subscribers imported by a librarian; their profiles wait in the outbox.
    subs_db = f"sqlite:///{tmp_path / 'subscriptions.db'}"
    engine = subs_store.make_engine(subs_db)
    subs_store.create_schema(engine)
    with subs_store.session_factory(engine)() as session:
        report = importing.import_subscribers(session, SUBSCRIBERS.format(run=run).encode(), "yaml", None, None)
        session.commit()
    assert report.errors == [] and report.created == 2
    with subs_store.session_factory(engine)() as session:
        subscriber_ids = [s.id for s in session.exec(select(Subscriber)).all()]

    feed = tmp_path / "feed.xml"
    feed.write_text(FEED.format(run=run))
    ingest_store = SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")
    ingest_store.add_source(SourceCreate(url=feed.as_uri(), title="E2E journal"))

    notify_settings = NotifySettings(
        database_url=f"sqlite:///{tmp_path / 'notify.db'}", outbox_dir=outbox, dev=True,
        send_immediately=True, scheduler_interval_s=1,
    )
    apps = {
        "subscriptions": subscriptions_app(
            SubscriptionsSettings(database_url=subs_db, dev=True, relay_interval_s=0.2), kafka, engine
        ),
        "classify": classify_app(
            ClassifySettings(data_dir=tmp_path / "classify", index_backend="edge", api_port=0), kafka
        ),
        "notify": notify_app(notify_settings, kafka),
    }
    started = []
    try:
        for name, app in apps.items():
            await app.start()
            started.append(app)

        classifier = lambda: apps["classify"].classify_state["classifier"]  # noqa: E731
        profile_points = [point_id(s, "profile") for s in subscriber_ids]

        def both_profiles_indexed() -> bool:
            return classifier() is not None and len(classifier().index.retrieve(profile_points)) == 2

        # Profiles go subscriptions -> Kafka -> classify before any item arrives (the broker may
        # also carry other tests' profiles, so wait for these two by id).
        await _until(both_profiles_indexed, 180, "both profiles in classify")

        ingest = ingest_app(
            IngestSettings(allow_file_urls=True, api_port=0, poll_tick_s=0.5), kafka, store=ingest_store
        )
        await ingest.start()
        started.append(ingest)

        cardio = f"cardio.{run}@example.nhs.uk"
        messages = await _until(lambda: _messages_to(outbox, cardio), 180, "the cardiologist's digest")
        digest = messages[0]
        text = digest.get_body(("plain",)).get_content()
        assert "Apixaban versus warfarin" in text
        assert "car park" not in text.lower()
        assert digest["List-Unsubscribe"] and digest["Message-ID"]

        # The other subscriber's profile matched nothing: no digest, now or after more rounds.
        await asyncio.sleep(5)
        assert _messages_to(outbox, f"skin.{run}@example.nhs.uk") == []
        assert len(_messages_to(outbox, cardio)) == 1

        # The cardiologist marks the trial useful through the e-mail's link and its confirming tap: notify records it and
        # publishes FeedbackGiven, subscriptions keeps it on her profile and republishes it, and
        # classify then holds the trial as one of the profile's example papers.
        from fastapi.testclient import TestClient

        from services.notify.api import create_links_api

        token = re.search(r"Useful: \S+/f/([A-Za-z0-9_-]+)", text).group(1)
        with TestClient(create_links_api(notify_settings)) as links:
            assert "Was this useful?" in links.get(f"/f/{token}").text  # opening the link records nothing
            thanks = links.post(f"/f/{token}")  # the confirming tap does
        assert thanks.status_code == 200 and "more like this" in thanks.text
        with subs_store.session_factory(engine)() as session:
            cardio_id = session.exec(select(Subscriber).where(Subscriber.email_key == cardio)).one().id
        trial = f"doi:10.5555/horizon.e2e.{run}.1"

        def trial_is_an_example() -> bool:
            model = classifier().model_of(cardio_id)
            return model is not None and model.example_refs == [trial]

        await _until(trial_is_an_example, 120, "the trial marked useful among the profile's examples")
        parts = classifier().table.parts
        [example] = classifier().model_of(cardio_id).parts["example"]
        assert parts.labels[parts.row[example]].startswith("Apixaban versus warfarin")
    finally:
        for app in reversed(started):
            await app.stop()
