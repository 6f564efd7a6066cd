"""Subscriber self-service through signed links: preferences, unsubscribe (incl. RFC 8058), my data, delete me."""

from __future__ import annotations

import json

from services.subscriptions import links, outbox

from .conftest import SECRET, new_subscriber
from .test_security import csrf_of


def _link(sid: str, act: str) -> str:
    return links.sign(SECRET, sid, act)


def test_preferences_are_shown_and_saved(client, world, sessions):
    sid = new_subscriber(client, world.a)["id"]
    token = _link(sid, "preferences")
    page = client.get(f"/self/{token}")
    assert page.status_code == 200 and "Anticoagulation in atrial fibrillation" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    saved = client.post(f"/self/{token}", data={"csrf_token": csrf_of(page.text), "receive": "on",
                                                "frequency": "monthly", "weekday": "friday"})
    assert saved.status_code == 200 and "saved" in saved.text
    sub = client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()
    assert (sub["frequency"], sub["weekday"], sub["urgent_alerts"], sub["status"]) == ("monthly", "friday", False, "active")
    with sessions() as session:
        last = [e for _, e in outbox.pending(session, 100) if e.subscriber_id == sid][-1]
    assert last.profile.frequency == "monthly" and last.version == 2


def test_unsubscribe_page_confirms_with_a_post(client, world):
    sid = new_subscriber(client, world.a)["id"]
    token = _link(sid, "unsubscribe")
    page = client.get(f"/self/{token}")
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "active"  # GET changes nothing
    done = client.post(f"/self/{token}", data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "unsubscribed"


def test_one_click_unsubscribe_needs_no_cookie_or_csrf(client, world, sessions):
    sid = new_subscriber(client, world.a)["id"]
    url = links.links_for(SECRET, "http://testserver", sid)["one_click_unsubscribe"]
    client.cookies.clear()
    response = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "unsubscribed"
    with sessions() as session:
        last = [e for _, e in outbox.pending(session, 100) if e.subscriber_id == sid][-1]
    assert last.profile.active is False and last.version == 2
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # repeat is harmless


def test_download_my_data(client, world):
    sid = new_subscriber(client, world.a, role="Consultant")["id"]
    response = client.get(f"/self/{_link(sid, 'export')}")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    data = json.loads(response.content)
    assert data["email"] == "asha.khan@example.nhs.uk" and data["role"] == "Consultant"
    assert data["organisation_name"] == "Alpha Hospitals NHS Trust"


def test_delete_me_erases_and_sends_a_tombstone(client, world, sessions):
    sid = new_subscriber(client, world.a)["id"]
    token = _link(sid, "delete")
    page = client.get(f"/self/{token}")
    assert client.post(f"/self/{token}", data={"csrf_token": csrf_of(page.text)}).status_code == 200
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).status_code == 404
    with sessions() as session:
        last = [e for _, e in outbox.pending(session, 100) if e.subscriber_id == sid][-1]
    assert last.deleted and last.profile is None and last.version == 2
    assert client.get(f"/self/{_link(sid, 'export')}").status_code == 404  # nothing left to download
