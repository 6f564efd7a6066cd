"""Servers on free loopback ports, in threads: a small RSS feed, and ingest's real API.

The subscriptions UI calls ingest over HTTP with its key (ports.HttpIngest); ingest fetches the
feed over HTTP (private addresses allowed: the feed is on loopback)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from contextlib import contextmanager

from pydantic import SecretStr

INGEST_KEY = SecretStr("workspace-ingest-key-0123456789")

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Evidence Bulletin for Falls</title><link>https://bulletin.example.org/</link>
<description>New evidence on falls prevention</description>
<item><title>Exercise to prevent falls in older people: a systematic review</title>
<link>https://bulletin.example.org/exercise-falls</link><pubDate>Mon, 30 Nov 2026 09:00:00 GMT</pubDate>
<description>Group and home exercise reduce the rate of falls.</description></item>
<item><title>Vitamin D and falls: randomised controlled trial</title>
<link>https://bulletin.example.org/vitamin-d</link><pubDate>Tue, 24 Nov 2026 09:00:00 GMT</pubDate>
<description>No effect on falls.</description></item>
</channel></rss>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def feed_server():
    """A base URL serving RSS at /feed.xml and an HTML page elsewhere."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body, kind = (RSS, "application/rss+xml") if self.path == "/feed.xml" else \
                (b"<!doctype html><html><head><title>Bulletin</title></head><body>Hi</body></html>", "text/html")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def serving(app):
    """An ASGI app under uvicorn on a free port, in a thread; its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):  # wait for it to be up (not a timing assertion)
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def ingest_server(tmp_path):
    """ingest's API on its own SQLite database, allowed to fetch from loopback."""
    from services.ingest.api import create_api
    from services.ingest.settings import IngestSettings
    from services.ingest.store import SqlStore

    settings = IngestSettings(subscriptions_key=INGEST_KEY, allow_private_addresses=True,
                              database_url=f"sqlite:///{tmp_path / 'ingest.db'}")
    with serving(create_api(settings, SqlStore(settings.database_url))) as url:
        yield url
