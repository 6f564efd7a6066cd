"""Urgent items that matched nobody: kept once, listed per organisation, sent on by a librarian."""

from __future__ import annotations

from datetime import datetime, timezone

from contracts import EvidenceType, ItemRouted, ItemUnrouted
from services.subscriptions import outbox, unrouted

from .conftest import new_subscriber
from .test_security import login

NOV = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def alert(item_id: str = "alert:bed", title: str = "National patient safety alert: bed rails") -> ItemUnrouted:
    return ItemUnrouted(producer="notify", item_id=item_id, title=title, url="https://alerts.example.org/bed",
                        source_title="National Patient Safety Alerts", evidence_type=EvidenceType.safety_alert,
                        published_at=NOV, classified_at=NOV)


def test_a_librarian_sends_an_unrouted_alert_to_chosen_subscribers(client, world, sessions):
    with sessions() as session:
        assert unrouted.record(session, alert()) and not unrouted.record(session, alert())  # redelivered: once
        assert unrouted.waiting_count(session, [world.a.org_id]) == 1 == unrouted.waiting_count(session, [world.b.org_id])
        assert unrouted.waiting_count(session, []) == 0
    ward = new_subscriber(client, world.a, name="Sister Ward", email="ward@alpha.nhs.uk", role="Ward manager")["id"]
    new_subscriber(client, world.a, name="Dr Other", email="other@alpha.nhs.uk")
    stranger = new_subscriber(client, world.b, name="Beta Person", email="beta@beta.nhs.uk")["id"]
    csrf = login(client, world.a.email)
    listing = client.get("/unrouted")
    assert "National patient safety alert: bed rails" in listing.text and "Sister Ward, Ward manager" in listing.text
    assert "Beta Person" not in listing.text  # another organisation's subscribers are not offered
    form = {"csrf_token": csrf, "item_id": "alert:bed", "organisation_id": world.a.org_id, "subscriber_id": [ward],
            "note": "For the falls lead"}
    refused = client.post("/unrouted/route", data={**form, "subscriber_id": [stranger]}, follow_redirects=False)
    assert refused.status_code == 422
    refused = client.post("/unrouted/route", data={**form, "organisation_id": world.b.org_id}, follow_redirects=False)
    assert refused.status_code == 404
    sent = client.post("/unrouted/route", data=form, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/unrouted?sent=1"
    page = client.get(sent.headers["location"])
    assert "Sent to 1 subscriber." in page.text and "lib.a@alpha.nhs.uk" in page.text
    assert client.post("/unrouted/route", data=form, follow_redirects=False).status_code == 409  # not twice
    with sessions() as session:
        assert unrouted.waiting_count(session, [world.a.org_id]) == 0
        assert unrouted.waiting_count(session, [world.b.org_id]) == 1  # still waits for the other trust
        [(_, event, key)] = [e for e in outbox.pending_events(session, 100) if isinstance(e[1], ItemRouted)]
    assert (event.item_id, event.organisation_id, event.subscriber_ids, event.note, key) == (
        "alert:bed", world.a.org_id, [ward], "For the falls lead", "alert:bed")
