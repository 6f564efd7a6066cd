"""Shared fixtures of ingest's integration tests: the shared test data, and a real HTTP server on
127.0.0.1 that misbehaves the ways publishers do (`feed_server`)."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
FEEDS = DATA / "feeds"


@pytest.fixture(scope="session")
def feeds_dir() -> Path:
    if not FEEDS.is_dir():
        pytest.skip(f"shared test data not found at {FEEDS}")
    return FEEDS


FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
        b"<item><title>A locally served article about heart failure</title><link>https://j.example/1</link>"
        b"<description>Abstract.</description></item></channel></rss>")


class Handler(BaseHTTPRequestHandler):
    seen_agents: list[str] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Handler.seen_agents.append(self.headers.get("User-Agent", ""))
        path = self.path
        if path == "/feed":
            if self.headers.get("If-None-Match") == '"v1"':
                return self._send(304, headers={"ETag": '"v1"'})
            return self._send(200, FEED, {"Content-Type": "application/rss+xml", "ETag": '"v1"',
                                          "Last-Modified": "Mon, 23 Nov 2026 08:00:00 GMT"})
        if path == "/gzip":
            return self._send(200, gzip.compress(FEED), {"Content-Type": "application/rss+xml",
                                                         "Content-Encoding": "gzip"})
        if path == "/html":
            return self._send(200, b"<!DOCTYPE html><html><head><title>Validate User</title></head></html>",
                              {"Content-Type": "text/html"})
        if path == "/limited":
            return self._send(429, headers={"Retry-After": "120"})
        if path == "/unavailable":
            return self._send(503, headers={"Retry-After": "Mon, 23 Nov 2026 09:00:00 GMT"})
        if path == "/gone":
            return self._send(410)
        if path == "/error":
            return self._send(500)
        if path == "/moved":
            return self._send(301, headers={"Location": "/feed"})
        if path == "/found":
            return self._send(302, headers={"Location": "/feed"})
        if path == "/loop-a":
            return self._send(302, headers={"Location": "/loop-b"})
        if path == "/loop-b":
            return self._send(302, headers={"Location": "/loop-a"})
        if path.startswith("/chain/"):
            return self._send(302, headers={"Location": f"/chain/{int(path.rsplit('/', 1)[1]) + 1}"})
        if path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            for byte in FEED:  # a drip-feed that would take minutes
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
            return
        if path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()  # no Content-Length: the limit must hold while streaming
            try:
                for _ in range(64):
                    self.wfile.write(b"<!-- " + b"x" * 65536 + b" -->")
            except OSError:
                return
            return
        if path == "/declared-big":
            return self._send(200, b"", {"Content-Length": str(10**9)})
        return self._send(404)


class FeedServer:
    """Start with `with FeedServer() as srv:`; `srv.url('/feed')`."""

    def __enter__(self) -> "FeedServer":
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def agents(self) -> list[str]:
        """The User-Agent of every request served so far."""
        return Handler.seen_agents

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv
