"""The sources API (FastAPI over real SQLite) and the `horizon ingest` command line."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from horizon.commands.ingest import app as ingest_cli
from services.ingest.api import create_api
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore


def test_sources_crud_health_and_opml_over_http(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'i.db'}")
    key = SecretStr("sources-test-key-0123456789")
    client = TestClient(create_api(IngestSettings(subscriptions_key=key), store),
                        headers={"Authorization": f"Bearer {key.get_secret_value()}"})
    made = client.post("/sources", json={"url": "https://guidance.example.org/rss", "title": "Guidance",
                                         "content_type": "guideline"})
    assert made.status_code == 201 and made.json()["healthy"] is True
    sid = made.json()["id"]
    assert client.post("/sources", json={"url": "https://guidance.example.org/rss"}).status_code == 409
    assert client.post("/sources", json={"url": "no-scheme"}).status_code == 422
    assert client.post("/sources", json={"url": "https://x.example/", "content_type": "poem"}).status_code == 422
    assert client.patch(f"/sources/{sid}", json={"enabled": False}).json()["enabled"] is False
    listed = client.get("/sources").json()
    assert [s["id"] for s in listed] == [sid]
    assert {"last_success_at", "last_error_kind", "last_error_message", "consecutive_failures",
            "next_attempt_at"} <= set(listed[0])
    opml = client.get("/sources/opml").text
    assert 'horizon:contentType="guideline"' in opml
    assert client.delete(f"/sources/{sid}").status_code == 204
    assert client.get(f"/sources/{sid}").status_code == 404
    imported = client.post("/sources/opml", content=opml, headers={"content-type": "text/x-opml"}).json()
    assert imported["added"] == [sid]
    assert client.get(f"/sources/{sid}").json()["content_type"] == "guideline"
    assert client.post("/sources/opml", content=b"<html/>", headers={"content-type": "text/x-opml"}).status_code == 422
    assert client.get("/health").json()["sources"] == 1


def test_cli_sources_round_trip_through_opml(tmp_path):
    db = f"sqlite:///{tmp_path / 'i.db'}"
    run = CliRunner().invoke
    assert run(ingest_cli, ["sources", "add", "https://a.example/rss", "--title", "A", "--content-type", "policy",
                            "--id", "a", "--db", db]).exit_code == 0
    assert run(ingest_cli, ["sources", "add", "https://a.example/rss", "--id", "a", "--db", db]).exit_code != 0
    assert run(ingest_cli, ["sources", "edit", "a", "--disabled", "--poll-interval", "7200", "--db", db]).exit_code == 0
    out = tmp_path / "s.opml"
    assert run(ingest_cli, ["sources", "export-opml", "--out", str(out), "--db", db]).exit_code == 0
    assert run(ingest_cli, ["sources", "remove", "a", "--db", db]).exit_code == 0
    assert run(ingest_cli, ["sources", "remove", "a", "--db", db]).exit_code == 1
    result = run(ingest_cli, ["sources", "import-opml", str(out), "--db", db])
    assert "added 1" in result.output
    listed = run(ingest_cli, ["sources", "list", "--json", "--db", db]).output.strip().splitlines()
    source = json.loads(listed[0])
    assert (source["id"], source["content_type"], source["enabled"], source["poll_interval_s"]) == (
        "a", "policy", False, 7200)


def test_cli_parse_prints_items_and_error_lines(feeds_dir, tmp_path):
    good = feeds_dir / "publishers" / "examples" / "native-pubmed.xml"
    html = feeds_dir / "publishers" / "2021-11-24" / "e379dc5d4d4c416ee999e4b32339d5e8.xml"
    missing = tmp_path / "missing.xml"
    result = CliRunner().invoke(ingest_cli, ["parse", str(good), str(html), str(missing)])
    assert result.exit_code == 1
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(items) == 15 and all(i["item_id"].startswith("doi:") and i["pmid"] for i in items)
    errors = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["input"], e["error"]) for e in errors] == [(str(html), "html_page"), (str(missing), "read_error")]
    ok = CliRunner().invoke(ingest_cli, ["parse", str(good)])
    assert ok.exit_code == 0 and ok.stderr == ""
