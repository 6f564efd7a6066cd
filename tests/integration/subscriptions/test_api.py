"""The REST API on a real database (SQLite and PostgreSQL): subscribers, profiles, files, events."""

from __future__ import annotations

from sqlmodel import select

from contracts import ProfileChanged
from services.subscriptions import outbox
from services.subscriptions.models import OutboxRow

from .conftest import PASSWORD, new_subscriber


def events(sessions) -> list[ProfileChanged]:
    with sessions() as session:
        return [e for _, e in outbox.pending(session, 1000)]


def test_login_issues_a_token_that_authenticates(client, world):
    response = client.post("/api/auth/token", json={"email": world.a.email, "password": PASSWORD})
    assert response.status_code == 200
    me = client.get("/api/me", headers={"Authorization": f"Bearer {response.json()['token']}"}).json()
    assert me["email"] == world.a.email and me["organisation_ids"] == [world.a.org_id]
    assert client.post("/api/auth/token", json={"email": world.a.email, "password": "wrong"}).status_code == 401
    assert client.get("/api/me").status_code == 401


def test_create_read_update_delete_emits_versioned_events(client, world, sessions):
    sub = new_subscriber(client, world.a, topics=["cardiology"], examples=["doi:10.1056/NEJMoa0905561"],
                         content_types=["guideline", "trial"], frequency="daily")
    assert sub["organisation_id"] == world.a.org_id and sub["version"] == 1
    got = client.get(f"/api/subscribers/{sub['id']}", headers=world.a.headers).json()
    assert got["interests"] == ["Anticoagulation in atrial fibrillation"] and got["frequency"] == "daily"

    patched = client.patch(f"/api/subscribers/{sub['id']}", json={"exclude": ["paediatric"], "board_briefing": True},
                           headers=world.a.headers).json()
    assert patched["exclude"] == ["paediatric"] and patched["board_briefing"] and patched["version"] == 2
    same = client.patch(f"/api/subscribers/{sub['id']}", json={"exclude": ["paediatric"]}, headers=world.a.headers)
    assert same.json()["version"] == 2  # no change, no new version

    assert client.delete(f"/api/subscribers/{sub['id']}", headers=world.a.headers).status_code == 204
    assert client.get(f"/api/subscribers/{sub['id']}", headers=world.a.headers).status_code == 404

    history = [e for e in events(sessions) if e.subscriber_id == sub["id"]]
    assert [e.version for e in history] == [1, 2, 3]
    live = history[1].profile
    assert live.organisation_name == "Alpha Hospitals NHS Trust" and live.board_briefing
    assert live.examples == ["doi:10.1056/NEJMoa0905561"] and live.frequency == "daily"
    assert history[2].deleted and history[2].profile is None


def test_validation_errors_are_clear(client, world):
    bad = client.post("/api/subscribers", headers=world.a.headers,
                      json={"name": "", "email": "not-an-address", "frequency": "hourly", "colour": "blue",
                            "examples": ["see the NEJM paper"]})
    assert bad.status_code == 422
    fields = {tuple(e["loc"][1:2]) for e in bad.json()["detail"]}
    assert {("name",), ("email",), ("frequency",), ("colour",), ("examples",)} <= fields
    new_subscriber(client, world.a)
    duplicate = client.post("/api/subscribers", headers=world.a.headers,
                            json={"name": "Asha", "email": "ASHA.KHAN@example.nhs.uk"})
    assert duplicate.status_code == 409


def test_search_and_filter(client, world):
    new_subscriber(client, world.a)
    new_subscriber(client, world.a, name="Grace Okafor", email="grace@example.nhs.uk", role="Practice nurse")
    names = lambda q: [s["name"] for s in client.get("/api/subscribers", params={"q": q}, headers=world.a.headers).json()]
    assert names("nurse") == ["Grace Okafor"]
    assert names("") == ["Dr Asha Khan", "Grace Okafor"]
    assert names("%") == [] and names("_") == []  # LIKE wildcards are literal


def test_import_keeps_valid_rows_and_reports_bad_ones(client, world, sessions):
    csv = (
        "name,email,role,frequency,interests,topics\r\n"
        "Ann Lee,ann@example.nhs.uk,GP,weekly,Diabetes care|Obesity in adults,endocrinology\r\n"
        "Bad Row,not-an-email,,weekly,,\r\n"
        "Cy Ng,cy@example.nhs.uk,,fortnightly,,\r\n"
        "Di Roy,di@example.nhs.uk,,,Sepsis,\r\n"
    ).encode()
    report = client.post("/api/import", params={"format": "csv"}, content=csv,
                         headers={**world.a.headers, "Content-Type": "text/csv"}).json()
    assert report["created"] == 2 and [e["row"] for e in report["errors"]] == [3, 4]
    assert "email" in report["errors"][0]["message"] and "frequency" in report["errors"][1]["message"]
    ann = client.get("/api/subscribers", params={"q": "ann@"}, headers=world.a.headers).json()[0]
    assert ann["interests"] == ["Diabetes care", "Obesity in adults"] and ann["topics"] == ["endocrinology"]
    assert ann["weekday"] == "monday" and ann["urgent_alerts"] is True  # defaults

    exported = client.get("/api/export", params={"organisation_id": world.a.org_id, "format": "yaml"},
                          headers=world.a.headers)
    assert exported.status_code == 200 and b"organisation: Alpha Hospitals NHS Trust" in exported.content
    again = client.post("/api/import", params={"format": "yaml"}, content=exported.content,
                        headers={**world.a.headers, "Content-Type": "application/yaml"}).json()
    assert again == {"organisation_id": world.a.org_id, "created": 0, "updated": 0, "unchanged": 2, "errors": []}


def test_import_of_unknown_key_is_a_row_error(client, world):
    yaml_file = b"subscribers:\n  - {name: A, email: a@example.nhs.uk, favourite: tea}\n  - {name: B, email: b@example.nhs.uk}\n"
    report = client.post("/api/import", params={"format": "yaml", "organisation_id": world.a.org_id},
                         content=yaml_file, headers={**world.a.headers, "Content-Type": "application/yaml"}).json()
    assert report["created"] == 1 and report["errors"][0]["row"] == 1 and "favourite" in report["errors"][0]["message"]


def test_import_sets_board_membership_and_export_carries_it(client, world, sessions):
    def post(body: bytes, fmt: str = "yaml") -> dict:
        kind = "application/yaml" if fmt == "yaml" else "text/csv"
        return client.post("/api/import", params={"format": fmt, "organisation_id": world.a.org_id}, content=body,
                           headers={**world.a.headers, "Content-Type": kind}).json()

    def board(email: str) -> bool:
        return client.get("/api/subscribers", params={"q": email}, headers=world.a.headers).json()[0]["board_briefing"]

    report = post(b"subscribers:\n  - {name: Ned Hale, email: ned@example.nhs.uk, board_briefing: true}\n"
                  b"  - {name: Ann Lee, email: ann@example.nhs.uk}\n")
    assert report["created"] == 2 and report["errors"] == []
    assert board("ned@") and not board("ann@")
    latest = {e.profile.email: e for e in events(sessions) if e.profile}
    assert latest["ned@example.nhs.uk"].profile.board_briefing and not latest["ann@example.nhs.uk"].profile.board_briefing

    # left out: unchanged; a CSV "false": no longer a board member, and a new profile version says so
    assert post(b"subscribers:\n  - {name: Ned Hale, email: ned@example.nhs.uk}\n")["unchanged"] == 1 and board("ned@")
    assert post(b"name,email,board_briefing\r\nNed Hale,ned@example.nhs.uk,false\r\n", "csv")["updated"] == 1
    assert not board("ned@") and not events(sessions)[-1].profile.board_briefing
    assert post(b"name,email,board_briefing\r\nNed Hale,ned@example.nhs.uk,maybe\r\n", "csv")["errors"][0]["row"] == 2

    post(b"subscribers:\n  - {name: Ned Hale, email: ned@example.nhs.uk, board_briefing: true}\n")
    exported = client.get("/api/export", params={"organisation_id": world.a.org_id, "format": "csv"},
                          headers=world.a.headers).content.decode()
    assert exported.splitlines()[0].endswith(",board_briefing")
    assert any(line.startswith("Ned Hale,") and line.endswith(",true") for line in exported.splitlines())
    assert any(line.startswith("Ann Lee,") and line.endswith(",false") for line in exported.splitlines())


def test_board_recipients_and_preview_and_sources(client, world, sessions):
    sub = new_subscriber(client, world.a)
    put = client.put(f"/api/organisations/{world.a.org_id}/board-recipients", json={"subscriber_ids": [sub["id"]]},
                     headers=world.a.headers)
    assert put.json() == {"subscriber_ids": [sub["id"]]}
    assert events(sessions)[-1].profile.board_briefing
    preview = client.post(f"/api/subscribers/{sub['id']}/preview", headers=world.a.headers).json()
    assert preview[0]["reasons"][0]["text"] == "Anticoagulation in atrial fibrillation"
    sources = client.get("/api/sources", headers=world.a.headers).json()
    assert sources[0]["status"] == "failing" and sources[0]["last_error"] == "HTTP 503"


def test_admin_creates_organisation_and_librarian(client, world):
    org = client.post("/api/organisations", json={"name": "Gamma ICB"}, headers=world.b.headers)
    assert org.status_code == 201
    lib = client.post("/api/librarians", headers=world.b.headers,
                      json={"email": "new@gamma.nhs.uk", "password": "a long enough pw", "organisation_ids": [org.json()["id"]]})
    assert lib.status_code == 201 and lib.json()["organisation_ids"] == [org.json()["id"]]
    # a librarian (not admin) can do neither; an admin cannot grant an organisation they do not belong to
    assert client.post("/api/organisations", json={"name": "X"}, headers=world.a.headers).status_code == 403
    grab = client.post("/api/librarians", headers=world.b.headers,
                       json={"email": "spy@beta.nhs.uk", "password": "a long enough pw", "organisation_ids": [world.a.org_id]})
    assert grab.status_code == 404


def test_openapi_documents_the_api(client):
    # generated for development mode and tooling; not served by a production app (dev=False here)
    assert client.get("/openapi.json").status_code == 404
    spec = client.app.openapi()
    assert "/api/subscribers" in spec["paths"] and "/api/import" in spec["paths"]
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()


def test_outbox_rows_are_written_with_the_change(client, world, sessions):
    sub = new_subscriber(client, world.a)
    with sessions() as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.key == sub["id"])).all()
    assert len(rows) == 1 and rows[0].published_at is None and rows[0].topic == "horizon.profiles.v1"
