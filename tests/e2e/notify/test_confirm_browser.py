"""In a real headless Chromium: opening a feedback link shows a confirmation and records nothing;
the one tap records once; a replay records nothing more. The page runs under the links app's CSP.

Set HORIZON_SCREENSHOTS=DIR to keep screenshots of the page at 1280 and 390 px in DIR.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from contracts import FeedbackGiven
from services.notify.api import create_links_api
from services.notify.bootstrap import build_notifier

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but /usr/bin/chromium is missing (install chromium chromium-driver)")
        pytest.skip("no /usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(settings, ev):  # type: ignore[no-untyped-def]
    """A digest in the outbox and the links app serving its links on loopback."""
    import uvicorn

    port = _free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    n = build_notifier(settings)
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:10.1056/nejmoa1107039", title="Apixaban versus warfarin in patients with atrial fibrillation",
                           url="https://www.nejm.org/doi/10.1056/NEJMoa1107039"))
    n.handle(ev.matched("asha", "doi:10.1056/nejmoa1107039"))
    n.run_due(MONDAY_8)
    html = next(settings.outbox_dir.glob("*.html")).read_text(encoding="utf-8")
    server = uvicorn.Server(uvicorn.Config(create_links_api(settings, store=n.store), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):  # wait for the server to be up (not a timing assertion)
        if server.started:
            break
        time.sleep(0.05)
    yield n, html
    server.should_exit = True
    thread.join(timeout=30)
    n.close()


def _recorded(n) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(e.verdict for e in n.outbox() if isinstance(e, FeedbackGiven))


def test_opening_shows_a_confirmation_the_tap_records_once(served) -> None:  # type: ignore[no-untyped-def]
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    n, html = served
    useful = re.search(r'<a href="([^"]+)"[^>]*>Useful</a>', html).group(1)
    full_text = re.search(r'<a href="([^"]+)"[^>]*>Request the full text</a>', html).group(1)
    shots = os.environ.get("HORIZON_SCREENSHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            problems: list[str] = []
            # CSP violations are console errors; a missing favicon is the one 404 a browser asks for itself
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.goto(useful)
            expect(page.get_by_role("heading", level=1)).to_have_text("Was this useful?")
            expect(page.get_by_text("Apixaban versus warfarin in patients with atrial fibrillation")).to_be_visible()
            assert _recorded(n) == []  # opening the link (what a mail scanner does) records nothing
            # the page's own styles apply under its CSP: the button wears the brand colour
            assert page.get_by_role("button").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 94, 184)"
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}/feedback-confirm-1280.png", full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.screenshot(path=f"{shots}/feedback-confirm-390.png", full_page=True)
            page.get_by_role("button", name="Yes, this was useful").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
            assert _recorded(n) == ["useful"]
            page.reload()  # the browser posts the form again: a replay
            expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
            expect(page.locator("main")).to_contain_text("already recorded")
            page.goto(useful)
            page.get_by_role("button").click()
            assert _recorded(n) == ["useful"]
            page.goto(full_text)
            expect(page.get_by_role("heading", level=1)).to_have_text("Request the full text?")
            page.get_by_role("button", name="Yes, ask the library for the full text").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Request sent to your library team")
            expect(page.locator("main")).to_contain_text("request queue")
            assert _recorded(n) == ["full_text_request", "useful"]
            assert problems == []  # no CSP violation, no error
        finally:
            browser.close()
