"""In a real headless Chromium, under the app's CSP: a librarian makes an API token (shown once),
sees it listed and revokes it; the self-service preferences page asks for a data link by e-mail.
No page breaks the CSP (no console error) and the pages keep their styles.

Set HORIZON_SCREENSHOTS=DIR to keep screenshots of the tokens page at 1280 and 390 px in DIR.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from services.subscriptions import links

from .conftest import ARGS, CHROMIUM, PASSWORD, SECRET, need_chromium

pytestmark = pytest.mark.browser


def test_tokens_page_and_self_service_under_the_csp(server):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = os.environ.get("HORIZON_SCREENSHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            problems: list[str] = []
            # CSP violations are console errors; a missing favicon is the one 404 a browser asks for itself
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.goto(f"{server}/login")
            page.get_by_label("E-mail").fill("librarian@example.nhs.uk")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Home")  # what needs attention
            # the inline stylesheet applies under the CSP
            assert page.locator("header").evaluate("h => getComputedStyle(h).backgroundColor") == "rgb(0, 94, 184)"

            page.get_by_role("link", name="Your account").click()
            expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
            page.get_by_role("link", name="Your API tokens").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
            page.get_by_label("Name").fill("Weekly export script")
            page.get_by_label("Expires after").select_option("30")
            page.get_by_role("button", name="Create token").click()
            page.get_by_label("Name").fill("Reach report")
            page.get_by_role("button", name="Create token").click()
            secret = page.locator("#new-token").inner_text()
            assert secret.startswith("hzn_") and "shown only this once" in page.locator(".secret").inner_text()
            expect(page.get_by_role("row")).to_have_count(3)  # the header and two tokens
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}/tokens-1280.png", full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.screenshot(path=f"{shots}/tokens-390.png", full_page=True)
                page.set_viewport_size({"width": 1280, "height": 800})
            page.goto(f"{server}/tokens")
            assert secret not in page.content()  # shown once, never again
            page.get_by_role("button", name="Revoke Reach report").click()
            expect(page.get_by_role("row")).to_have_count(2)
            expect(page.get_by_text("Reach report")).to_have_count(0)

            page.get_by_role("link", name="Add a subscriber").click()
            page.get_by_label("Name").fill("Dr Asha Khan")
            page.get_by_label("E-mail").fill("asha.khan@example.nhs.uk")
            page.get_by_role("button", name="Add subscriber").click()
            expect(page.get_by_role("status")).to_have_text("Saved.")
            sid = re.search(r"/subscribers/([0-9a-f-]{36})", page.url).group(1)

            page.goto(f"{server}/self/{links.sign(SECRET, sid, 'preferences')}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Your preferences, Dr Asha Khan")
            assert page.locator("a[href*='/self/']").count() == 0  # no link to export or delete
            page.get_by_role("button", name="E-mail me a link to download my data").click()
            expect(page.get_by_role("status")).to_contain_text("We have sent a link to download your data")
            assert problems == []
        finally:
            browser.close()
