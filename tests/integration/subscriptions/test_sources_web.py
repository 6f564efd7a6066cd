"""Sources in the librarian UI, through ingest's real API over HTTP: add by address after a
preview of the feed, see its health, edit, pause, OPML out and in, delete after a confirmation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.subscriptions.app import create_api
from services.subscriptions.ports import HttpIngest

from .conftest import fake_classify
from .serving import INGEST_KEY, feed_server, ingest_server
from .test_security import login


@pytest.fixture
def ui(settings, engine, world, tmp_path):
    with feed_server() as feeds, ingest_server(tmp_path) as ingest:
        api = create_api(settings, classify=fake_classify, ingest=HttpIngest(ingest, INGEST_KEY), engine=engine)
        with TestClient(api) as client:
            yield client, feeds


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_librarian_adds_a_source_by_its_address_and_looks_after_it(ui, world):
    client, feeds = ui
    csrf = login(client, world.b.email)  # an admin: may delete
    html_page = client.post("/sources/new", data={"csrf_token": csrf, "url": f"{feeds}/page.html", "action": "preview"})
    assert html_page.status_code == 422 and "The address is a web page, not a feed" in html_page.text
    preview = client.post("/sources/new", data={"csrf_token": csrf, "url": f"{feeds}/feed.xml", "action": "preview"})
    assert preview.status_code == 200 and "Evidence Bulletin for Falls" in preview.text and "2 entries" in preview.text
    assert "Exercise to prevent falls in older people: a systematic review" in preview.text  # the newest item
    added = client.post("/sources/new", data={"csrf_token": csrf, "url": f"{feeds}/feed.xml", "action": "add",
                                              "title": "Falls bulletin", "content_type": "journal_article",
                                              "poll_interval_s": "86400"}, follow_redirects=False)
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert "Falls bulletin" in page and "Not fetched yet" in page and "Added." in page
    source_url = added.headers["location"].split("?")[0]

    assert "Falls bulletin" in client.get("/sources").text
    client.post(source_url, data={"csrf_token": csrf, "action": "save", "title": "Falls evidence bulletin",
                                  "publisher": "Library", "content_type": "report", "poll_interval_s": "3600"})
    paused = client.post(source_url, data={"csrf_token": csrf, "action": "pause"})
    assert "Paused: Horizon will not fetch it" in paused.text and "Falls evidence bulletin" in paused.text
    opml = client.get("/sources.opml")
    assert opml.status_code == 200 and b"feed.xml" in opml.content

    confirm = client.get(f"{source_url}/delete")
    assert "Yes, delete this source" in confirm.text
    client.post(f"{source_url}/delete", data={"csrf_token": csrf})
    assert "Falls evidence bulletin" not in client.get("/sources").text
    uploaded = client.post("/sources/opml", data={"csrf_token": csrf}, files={"file": ("s.opml", opml.content, "text/x-opml")})
    assert uploaded.status_code == 200 and "1 added" in uploaded.text
