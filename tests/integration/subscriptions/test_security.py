"""Security: organisations are isolated, tokens and links cannot be forged, CSRF is enforced,
hostile input is harmless."""

from __future__ import annotations

import base64
import re
import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from services.subscriptions import links

from .conftest import PASSWORD, SECRET, new_subscriber


def test_another_organisations_subscriber_is_not_found(client, world):
    theirs = new_subscriber(client, world.b, email="b.person@beta.nhs.uk")
    sid, h = theirs["id"], world.a.headers
    assert client.get(f"/api/subscribers/{sid}", headers=h).status_code == 404
    assert client.patch(f"/api/subscribers/{sid}", json={"name": "Hijacked"}, headers=h).status_code == 404
    assert client.delete(f"/api/subscribers/{sid}", headers=h).status_code == 404
    assert client.post(f"/api/subscribers/{sid}/preview", headers=h).status_code == 404
    assert client.get(f"/api/subscribers/{sid}/links", headers=h).status_code == 404
    assert client.get("/api/subscribers", headers=h).json() == []
    assert client.get("/api/subscribers", params={"organisation_id": world.b.org_id}, headers=h).json() == []
    # the same answer as for a subscriber that never existed
    assert client.get("/api/subscribers/no-such-id", headers=h).json() == client.get(f"/api/subscribers/{sid}", headers=h).json()
    # nothing changed for its owner
    assert client.get(f"/api/subscribers/{sid}", headers=world.b.headers).json()["name"] == theirs["name"]


def test_another_organisation_cannot_be_written_to(client, world):
    theirs = new_subscriber(client, world.b, email="b.person@beta.nhs.uk")
    h, org_b = world.a.headers, world.b.org_id
    assert client.post("/api/subscribers", headers=h, json={"name": "X", "email": "x@example.nhs.uk",
                                                             "organisation_id": org_b}).status_code == 404
    assert client.put(f"/api/organisations/{org_b}/board-recipients", json={"subscriber_ids": [theirs["id"]]},
                      headers=h).status_code == 404
    assert client.get(f"/api/organisations/{org_b}/engagement", headers=h).status_code == 404
    assert client.get("/api/export", params={"organisation_id": org_b}, headers=h).status_code == 404
    report = client.post("/api/import", params={"format": "csv", "organisation_id": org_b}, headers=h,
                         content=b"name,email\r\nX,x@example.nhs.uk\r\n").json()
    assert report["created"] == 0 and report["errors"][0]["row"] == 0
    named = client.post("/api/import", params={"format": "yaml"}, headers=h,
                        content=b"organisation: Beta Community NHS Trust\nsubscribers:\n  - {name: X, email: x@example.nhs.uk}\n").json()
    assert named["created"] == 0 and named["errors"]
    # a board list naming another organisation's subscriber is refused
    mine = client.put(f"/api/organisations/{world.a.org_id}/board-recipients", json={"subscriber_ids": [theirs["id"]]},
                      headers=h)
    assert mine.status_code == 404
    assert client.get(f"/api/subscribers/{theirs['id']}", headers=world.b.headers).json()["board_briefing"] is False


def test_forged_and_revoked_tokens_are_refused(client, world):
    assert client.get("/api/me", headers={"Authorization": "Bearer hzn_forged"}).status_code == 401
    issued = client.post("/api/auth/token", json={"email": world.a.email, "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert client.delete(f"/api/tokens/{issued['token_id']}", headers=bearer).status_code == 204
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_api_ignores_the_web_session_cookie(client, world):
    login(client, world.a.email)
    assert client.get("/api/subscribers").status_code == 401  # cookies never authenticate the API (no CSRF there)


def _self_link(client, world, act="preferences") -> tuple[str, str]:
    sub = new_subscriber(client, world.a)
    return sub["id"], links.sign(SECRET, sub["id"], act)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "==")


def test_tampered_and_forged_links_are_refused(client, world):
    sid, token = _self_link(client, world)
    assert client.get(f"/self/{token}").status_code == 200
    raw = _raw(token)
    tampered = _b64(raw[:-1] + bytes([raw[-1] ^ 1]))
    assert client.get(f"/self/{tampered}").status_code == 403
    other = _raw(links.sign(SECRET, "someone-else", "preferences"))
    assert client.get(f"/self/{_b64(other[:16] + raw[16:])}").status_code == 403  # another's key under this signature
    as_delete = _b64(raw[:16] + bytes([4]) + raw[17:])  # the action changed, the signature kept
    assert client.post(f"/self/{as_delete}").status_code == 403
    forged = links.sign("not-the-secret-at-all", sid, "delete")
    assert client.post(f"/self/{forged}").status_code == 403
    wrong_salt = URLSafeTimedSerializer(SECRET, salt="horizon.session").dumps({"sid": sid, "act": "unsubscribe"})
    assert client.post(f"/self/{wrong_salt}/unsubscribe").status_code == 403
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "active"


def test_a_link_replayed_past_expiry_is_refused(client, world):
    sid, _ = _self_link(client, world)
    old = links.sign(SECRET, sid, "unsubscribe", issued_at=int(time.time()) - 60 * 24 * 3600)  # made 60 days ago
    assert client.get(f"/self/{old}").status_code == 410
    assert client.post(f"/self/{old}/unsubscribe", data={"List-Unsubscribe": "One-Click"}).status_code == 410
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "active"


def test_a_link_allows_only_its_own_action(client, world):
    sid, prefs = _self_link(client, world, "preferences")
    assert client.post(f"/self/{prefs}/unsubscribe").status_code == 403
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "active"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, email: str) -> str:
    page = client.get("/login")
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303
    return csrf_of(client.get("/subscribers").text)


def test_login_form_needs_its_csrf_token(client, world):
    client.get("/login")
    refused = client.post("/login", data={"email": world.a.email, "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 403 and "horizon_session" not in client.cookies


def test_web_forms_need_the_sessions_csrf_token(client, world):
    csrf = login(client, world.a.email)
    form = {"name": "Eve", "email": "eve@example.nhs.uk", "organisation_id": world.a.org_id}
    assert client.post("/subscribers/new", data=form).status_code == 403
    assert client.post("/subscribers/new", data={**form, "csrf_token": "guess"}).status_code == 403
    assert client.get("/api/subscribers", headers=world.a.headers).json() == []
    created = client.post("/subscribers/new", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert created.status_code == 303
    # another visitor's valid token does not work with this session
    other = client.__class__(client.app)
    other_csrf = csrf_of(other.get("/login").text)
    assert client.post(created.headers["location"].split("?")[0], data={**form, "csrf_token": other_csrf}).status_code == 403


def test_self_service_forms_need_a_csrf_token(client, world):
    sid, token = _self_link(client, world, "delete")
    assert client.post(f"/self/{token}").status_code == 403
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).status_code == 200


def test_web_pages_need_a_login_and_hide_other_organisations(client, world):
    theirs = new_subscriber(client, world.b, email="b.person@beta.nhs.uk")
    assert client.get("/subscribers", follow_redirects=False).headers["location"] == "/login"
    login(client, world.a.email)
    assert client.get(f"/subscribers/{theirs['id']}").status_code == 404
    assert client.get(f"/subscribers/{theirs['id']}/preview").status_code == 404
    assert "b.person@beta.nhs.uk" not in client.get("/subscribers", params={"q": "beta"}).text


@pytest.mark.parametrize("hostile", ["' OR '1'='1", "%' OR 1=1 --", "\"; DROP TABLE subscribers; --"])
def test_injection_in_search_is_harmless(client, world, hostile):
    new_subscriber(client, world.b, email="b.person@beta.nhs.uk")
    assert client.get("/api/subscribers", params={"q": hostile}, headers=world.a.headers).json() == []
    assert len(client.get("/api/subscribers", headers=world.b.headers).json()) == 1


def test_markup_in_names_is_escaped(client, world):
    new_subscriber(client, world.a, name='<script>alert("x")</script>', role="<img src=x onerror=alert(1)>")
    login(client, world.a.email)
    html = client.get("/subscribers").text
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<img src=x" not in html


def test_csv_export_defuses_spreadsheet_formulas(client, world):
    new_subscriber(client, world.a, name="=HYPERLINK(\"http://evil\")", role="+cmd")
    exported = client.get("/api/export", params={"organisation_id": world.a.org_id, "format": "csv"},
                          headers=world.a.headers).text
    assert "'=HYPERLINK" in exported and ",'+cmd," in exported
    back = client.post("/api/import", params={"format": "csv", "organisation_id": world.a.org_id},
                       content=exported.encode(), headers={**world.a.headers, "Content-Type": "text/csv"}).json()
    assert back["unchanged"] == 1 and back["errors"] == []
