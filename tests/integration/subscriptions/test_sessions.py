"""Server-side web sessions: logout, a password change and disabling a librarian end every session
of theirs; sessions time out when idle and after an absolute lifetime; the cookie names nobody."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from services.subscriptions.models import WebSessionRow, now

from .conftest import PASSWORD
from .test_security import csrf_of, login

NEW_PASSWORD = "tangerine lighthouse 47"


def _second_browser(client: TestClient) -> TestClient:
    other = TestClient(client.app)
    other.__enter__()  # the app is already started by `client`: this only opens another cookie jar
    return other


def _logged_in(c: TestClient) -> bool:
    return c.get("/subscribers", follow_redirects=False).status_code == 200


def test_logout_ends_the_session_on_the_server(client, world):
    csrf = login(client, world.a.email)
    cookie = client.cookies.get("horizon_session")
    assert world.a.librarian_id not in cookie and "." not in cookie  # opaque: a random id, nothing signed in it
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("horizon_session", cookie)  # the attacker kept a copy
    assert client.get("/subscribers", follow_redirects=False).headers["location"] == "/login"
    refused = client.post("/subscribers/new", data={"csrf_token": csrf, "name": "X", "email": "x@example.nhs.uk"},
                          follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/login"


def test_a_password_change_ends_every_session_and_keeps_the_changer_in(client, world):
    csrf = login(client, world.a.email)
    other = _second_browser(client)
    login(other, world.a.email)
    weak = client.post("/account/password", data={"csrf_token": csrf, "current_password": PASSWORD,
                                                    "new_password": "password1234", "confirm_password": "password1234"})
    assert weak.status_code == 422 and _logged_in(other)
    wrong = client.post("/account/password", data={"csrf_token": csrf, "current_password": "not it at all",
                                                     "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert wrong.status_code == 403 and _logged_in(other)
    done = client.post("/account/password", data={"csrf_token": csrf, "current_password": PASSWORD,
                                                   "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 200 and "changed" in done.text
    assert not _logged_in(other)
    assert _logged_in(client)  # a fresh session for the browser that made the change
    assert client.post("/api/auth/token", json={"email": world.a.email, "password": PASSWORD}).status_code == 401
    assert client.post("/api/auth/token", json={"email": world.a.email, "password": NEW_PASSWORD}).status_code == 200


def test_the_api_password_change_ends_web_sessions_too(client, world):
    login(client, world.a.email)
    changed = client.post("/api/me/password", headers=world.a.headers,
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204 and not _logged_in(client)


def test_an_admin_disables_a_librarian_which_ends_their_sessions_and_tokens(client, world):
    admin = world.b.headers
    created = client.post("/api/librarians", headers=admin, json={
        "email": "kim@beta.nhs.uk", "password": "tangerine lighthouse 47", "organisation_ids": [world.b.org_id]})
    assert created.status_code == 201
    kim = created.json()["id"]
    token = client.post("/api/auth/token", json={"email": "kim@beta.nhs.uk", "password": "tangerine lighthouse 47"}).json()["token"]
    page = client.get("/login")
    client.post("/login", data={"email": "kim@beta.nhs.uk", "password": "tangerine lighthouse 47", "csrf_token": csrf_of(page.text)})
    assert _logged_in(client)
    # another organisation's librarian cannot be reached, nor can a librarian disable anyone
    assert client.post(f"/api/librarians/{kim}/disable", headers=world.a.headers).status_code in (403, 404)
    assert client.post(f"/api/librarians/{world.a.librarian_id}/disable", headers=admin).status_code == 404
    assert client.post(f"/api/librarians/{world.b.librarian_id}/disable", headers=admin).status_code == 422  # not yourself
    listed = client.get("/api/librarians", headers=admin).json()
    assert {lib["email"] for lib in listed} == {world.b.email, "kim@beta.nhs.uk"}
    disabled = client.post(f"/api/librarians/{kim}/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert not _logged_in(client)
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    page = client.get("/login")
    refused = client.post("/login", data={"email": "kim@beta.nhs.uk", "password": "tangerine lighthouse 47",
                                          "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 401 and "Wrong e-mail or password" in refused.text
    assert client.post(f"/api/librarians/{kim}/enable", headers=admin).json()["active"] is True
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401  # tokens stay revoked


def test_the_admin_disables_from_the_librarians_page(client, world):
    admin_client = client
    client.post("/api/librarians", headers=world.b.headers, json={
        "email": "kim@beta.nhs.uk", "password": "tangerine lighthouse 47", "organisation_ids": [world.b.org_id]})
    csrf = login(admin_client, world.b.email)
    page = admin_client.get("/librarians")
    assert page.status_code == 200 and "kim@beta.nhs.uk" in page.text and world.a.email not in page.text
    kim = next(lib["id"] for lib in client.get("/api/librarians", headers=world.b.headers).json() if lib["email"] == "kim@beta.nhs.uk")
    done = admin_client.post(f"/librarians/{kim}/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert "Disabled" in admin_client.get("/librarians").text
    other = _second_browser(client)
    login(other, world.a.email)
    assert other.get("/librarians").status_code == 403  # not an admin


def test_idle_and_absolute_timeouts(client, world, sessions, settings):
    login(client, world.a.email)
    with sessions() as db:
        row = db.exec(select(WebSessionRow).where(WebSessionRow.librarian_id == world.a.librarian_id)).one()
        row.last_seen_at = now() - timedelta(seconds=settings.session_idle_s + 5)
        db.add(row)
        db.commit()
    assert not _logged_in(client)
    login(client, world.a.email)
    with sessions() as db:
        row = db.exec(select(WebSessionRow).where(WebSessionRow.librarian_id == world.a.librarian_id)).one()
        row.created_at = now() - timedelta(seconds=settings.session_max_age_s + 5)
        db.add(row)
        db.commit()
    assert not _logged_in(client)  # however recently it was used
