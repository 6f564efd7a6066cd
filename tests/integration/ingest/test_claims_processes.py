"""Two ingest processes sharing one database poll the same two feeds at the same instant, round by
round (ingest_process.py): each work is published once, by one of them, whatever the interleaving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from services.ingest.store import SqlStore
from services.ingest.tables import SourceCreate

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
WORKS, ROUNDS = 50, 5


class Feeds(BaseHTTPRequestHandler):
    """/<round>/<side>: the round's works, as the journal ('a') or the search feed ('b') gives them."""

    tag = ""

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        round_no, side = self.path.strip("/").split("/")
        items = "".join(
            f"<item><title>{self.tag} {round_no} work {i:03d}: a trial of a treatment in adults</title>"
            f"<link>https://{side}.example/{self.tag}/{round_no}/{i}</link><description>Feed {side}.</description>"
            f"<dc:identifier>doi:10.5555/{self.tag}.{round_no}.{i}</dc:identifier></item>" for i in range(WORKS))
        body = ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                f"<channel><title>{side}</title>{items}</channel></rss>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ingest.db'}"
    return request.getfixturevalue("postgres_url")


def test_two_ingest_processes_on_one_database_publish_each_work_once(database_url, tmp_path):
    tag = uuid.uuid4().hex[:8]
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("TaggedFeeds", (Feeds,), {"tag": tag}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = SqlStore(database_url)
    for r in range(ROUNDS):  # round r's two sources fall due at START + r hours, and then not for a day
        for side in ("a", "b"):
            source = store.add_source(SourceCreate(id=f"{side}{r}", poll_interval_s=86400,
                                                   url=f"http://127.0.0.1:{server.server_address[1]}/{r}/{side}"))
            source.next_attempt_at = START + timedelta(hours=r)
            store.save_source(source)
    sync = tmp_path / "sync"
    sync.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = str(Path(__file__).with_name("ingest_process.py"))
    try:
        children = [subprocess.Popen([sys.executable, script, name, database_url, str(ROUNDS), START.isoformat(),
                                      str(sync)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True) for name in ("one", "two")]
        outputs = [child.communicate(timeout=240) for child in children]
    finally:
        server.shutdown()
        server.server_close()
    for child, (_, err) in zip(children, outputs):
        assert child.returncode == 0, err[-3000:]
    published = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    counts = Counter(p["item_id"] for p in published)
    expected = {f"doi:10.5555/{tag}.{r}.{i}" for r in range(ROUNDS) for i in range(WORKS)}
    assert set(counts) == expected and set(counts.values()) == {1}  # each work once, by one process
    assert all(store.sighting(item_id, f"{side}{item_id.split('.')[-2]}") for item_id in expected for side in "ab")
    assert store.pending_events() == 0
