"""In a real headless Chromium: a page on another origin tries to plant a source in ingest.

The attack that worked: an HTML form on any site, posted as `text/plain`, whose one field's
name and value join into a valid OPML document (`name=value`), sent to `POST /sources/opml` on
the loopback port; the browser sends it without asking anyone, and ingest used to import it.
The same trick shapes a JSON body for `POST /sources`, and `fetch(..., {mode: "no-cors"})` sends
a text/plain body too. Each must now fail: no service key (401), and not a type the route takes.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import uvicorn
from pydantic import SecretStr

from services.ingest.api import create_api
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
KEY = SecretStr("cross-site-test-key-0123456789")
PLANTED = "https://attacker.example/feed.xml"

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but /usr/bin/chromium is missing (install chromium chromium-driver)")
        pytest.skip("no /usr/bin/chromium")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attack_page(target: str) -> str:
    """Three forms and a fetch, each sending a body a browser may send to any site unasked."""
    opml_name = f'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body><outline text="p" xmlUrl="{PLANTED}" x'
    opml_value = '"/></body></opml>'
    json_name = f'{{"url": "{PLANTED}", "x": "'
    json_value = '"}'
    return f"""<!doctype html><html><body>
<form id="opml" method="post" enctype="text/plain" action="{target}/sources/opml" target="f1">
  <input type="hidden" name='{opml_name}' value='{opml_value}'></form>
<form id="opml-urlencoded" method="post" action="{target}/sources/opml" target="f2">
  <input type="hidden" name="opml" value='<opml version="2.0"><body><outline xmlUrl="{PLANTED}"/></body></opml>'></form>
<form id="json" method="post" enctype="text/plain" action="{target}/sources" target="f3">
  <input type="hidden" name='{json_name}' value='{json_value}'></form>
<iframe name="f1"></iframe><iframe name="f2"></iframe><iframe name="f3"></iframe>
<script>
  document.getElementById("opml").submit();
  document.getElementById("opml-urlencoded").submit();
  document.getElementById("json").submit();
  fetch("{target}/sources/opml", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
         body: '<opml version="2.0"><body><outline xmlUrl="{PLANTED}"/></body></opml>'}})
    .finally(() => {{ document.title = "sent"; }});
</script></body></html>"""


@pytest.fixture
def ingest(tmp_path):
    """ingest's API on a real port, as production serves it (a key required, not development mode)."""
    store = SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")
    port = _port()
    server = uvicorn.Server(uvicorn.Config(create_api(IngestSettings(subscriptions_key=KEY), store),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):  # wait for the server to be up (not a timing assertion)
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def attacker(ingest):
    """The attacker's page, served from another origin (another host name and port)."""
    page = attack_page(ingest[0]).encode()
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/", answers
    server.shutdown()


def test_a_page_on_another_site_cannot_add_a_source(ingest, attacker):
    _need_chromium()
    from playwright.sync_api import sync_playwright

    target, store = ingest
    url, _ = attacker
    statuses: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("response", lambda r: statuses.__setitem__(f"{r.request.method} {r.url}", r.status)
                    if r.url.startswith(target) else None)
            page.goto(url)
            page.wait_for_function("document.title === 'sent'", timeout=30_000)
            deadline = time.monotonic() + 30  # the three form posts answer in their frames
            while len([k for k in statuses if k.startswith("POST")]) < 2 and time.monotonic() < deadline:
                page.wait_for_timeout(100)
        finally:
            browser.close()
    assert store.list_sources() == []  # nothing planted, by any of the four
    posts = {k: v for k, v in statuses.items() if k.startswith("POST")}
    assert posts and all(status == 401 for status in posts.values()), posts
