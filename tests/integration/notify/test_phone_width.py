"""Rendered digests and briefings fit a phone screen in headless Chromium (no sideways scrolling)."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from contracts import EvidenceType
from services.notify.bootstrap import build_notifier

pytestmark = pytest.mark.browser
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
LONG = "Pneumococcal-conjugate-vaccine-immunogenicity-" * 4


def test_digest_and_briefing_fit_420px(settings, ev) -> None:  # type: ignore[no-untyped-def]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    n = build_notifier(settings)
    n.handle(ev.profile("asha", board_briefing=True))
    n.handle(ev.classified("doi:1", title=f"A very long unbroken word {LONG}", summary=f"{LONG}. Second."))
    n.handle(ev.classified("nice:1", title="NICE guideline", evidence=EvidenceType.guideline))
    for item in ("doi:1", "nice:1"):
        n.handle(ev.matched("asha", item))
    n.run_due(MONDAY_8)
    n.run_briefings(MONDAY_8, force=True)
    n.close()
    pages = sorted(settings.outbox_dir.glob("*.html"))
    assert len(pages) == 2
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 420, "height": 900})
        for html in pages:
            page.goto(html.resolve().as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 420, html.name
            assert page.evaluate("document.documentElement.lang") == "en-GB"
            assert page.evaluate("document.querySelectorAll('h1').length") == 1
        browser.close()
