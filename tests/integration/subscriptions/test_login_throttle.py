"""Log-in attempts are throttled per account and per address; during a lockout even the right
password is refused; no answer tells whether an account exists."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from services.subscriptions.models import LoginAttempt, now

from .conftest import PASSWORD
from .test_security import csrf_of


def _try(client, email: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


def test_the_right_password_is_refused_during_a_lockout(client, world, settings, sessions):
    for _ in range(settings.login_max_failures):
        assert _try(client, world.a.email, "not the password").status_code == 401
    locked = _try(client, world.a.email, PASSWORD)
    assert locked.status_code == 429 and "Too many" in locked.text and "retry-after" in {k.lower() for k in locked.headers}
    api = client.post("/api/auth/token", json={"email": world.a.email, "password": PASSWORD})
    assert api.status_code == 429
    # another account from the same address is not locked by this one
    assert _try(client, world.b.email, PASSWORD).status_code == 303
    with sessions() as db:  # the lockout window passes
        for row in db.exec(select(LoginAttempt)).all():
            row.locked_until = now() - timedelta(seconds=1)
            db.add(row)
        db.commit()
    assert _try(client, world.a.email, PASSWORD).status_code == 303


def test_one_address_trying_many_accounts_is_locked_out(client, world, settings):
    for i in range(settings.login_max_failures_per_address):
        _try(client, f"guess{i}@alpha.nhs.uk", "not the password")
    assert _try(client, world.a.email, PASSWORD).status_code == 429


def test_answers_do_not_tell_whether_an_account_exists(client, world, settings):
    unknown = _try(client, "nobody@alpha.nhs.uk", "not the password")
    wrong = _try(client, world.a.email, "not the password")
    assert (unknown.status_code, wrong.status_code) == (401, 401)
    assert unknown.text.replace("nobody@alpha.nhs.uk", "") == wrong.text.replace(world.a.email, "").replace(
        csrf_of(wrong.text), csrf_of(unknown.text))
    for _ in range(settings.login_max_failures):
        _try(client, "nobody@alpha.nhs.uk", "not the password")
    assert _try(client, "nobody@alpha.nhs.uk", "anything at all").status_code == 429  # locked like a real one
    api_unknown = client.post("/api/auth/token", json={"email": "nobody2@alpha.nhs.uk", "password": "x"})
    api_wrong = client.post("/api/auth/token", json={"email": world.b.email, "password": "x"})
    assert api_unknown.json() == api_wrong.json() and api_unknown.status_code == api_wrong.status_code == 401


def test_weak_passwords_are_refused_when_librarians_are_created(client, world):
    for password in ("password1234", "short", "beta.nhs.uk.kim1", "kimkimkimkim"):
        made = client.post("/api/librarians", headers=world.b.headers, json={
            "email": "kim@beta.nhs.uk", "password": password, "organisation_ids": [world.b.org_id]})
        assert made.status_code == 422, password
