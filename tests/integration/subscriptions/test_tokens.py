"""API tokens: they expire, are listed and revocable through the API and the UI, are shown once at
creation and stored only as a hash."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from services.subscriptions.models import ApiToken

from .conftest import PASSWORD
from .test_security import login


def test_every_token_expires_and_an_expired_token_is_refused(client, world, sessions, settings):
    issued = client.post("/api/auth/token", json={"email": world.a.email, "password": PASSWORD}).json()
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(days=settings.api_token_days - 1) < expires - datetime.now(timezone.utc) <= timedelta(days=settings.api_token_days)
    too_long = client.post("/api/auth/token", json={"email": world.a.email, "password": PASSWORD,
                                                     "expires_in_days": settings.api_token_max_days + 1})
    assert too_long.status_code == 422
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/me", headers=bearer).status_code == 200
    with sessions() as db:
        row = db.get(ApiToken, issued["token_id"])
        assert issued["token"] not in (row.token_hash, row.name)  # only its hash is kept
        row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.add(row)
        db.commit()
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_tokens_are_listed_and_revoked_through_the_api(client, world):
    made = client.post("/api/tokens", headers=world.a.headers, json={"name": "nightly export", "expires_in_days": 7})
    assert made.status_code == 201 and made.json()["token"].startswith("hzn_")
    listed = client.get("/api/tokens", headers=world.a.headers).json()
    assert {t["name"] for t in listed} == {"test", "nightly export"}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert client.get("/api/tokens", headers=world.b.headers).json()[0]["name"] == "test"  # only one's own
    assert client.delete(f"/api/tokens/{made.json()['token_id']}", headers=world.b.headers).status_code == 404
    assert client.delete(f"/api/tokens/{made.json()['token_id']}", headers=world.a.headers).status_code == 204
    assert client.get("/api/me", headers={"Authorization": f"Bearer {made.json()['token']}"}).status_code == 401
    assert [t["name"] for t in client.get("/api/tokens", headers=world.a.headers).json()] == ["test"]


def test_the_tokens_page_creates_shows_once_and_revokes(client, world, sessions):
    csrf = login(client, world.a.email)
    made = client.post("/tokens", data={"csrf_token": csrf, "name": "spreadsheet", "expires_in_days": "30"})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = re.search(r"(hzn_[A-Za-z0-9_-]+)", made.text).group(1)
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page = client.get("/tokens")
    assert "spreadsheet" in page.text and secret not in page.text  # shown once, never again
    with sessions() as db:
        row = db.exec(select(ApiToken).where(ApiToken.name == "spreadsheet")).one()
    revoked = client.post(f"/tokens/{row.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "spreadsheet" not in client.get("/tokens").text
