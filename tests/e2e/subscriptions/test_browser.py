"""In a real headless Chromium: a librarian logs in, adds a subscriber with an interest, sees a preview."""

from __future__ import annotations

import pytest

from .conftest import ARGS, CHROMIUM, PASSWORD, need_chromium

pytestmark = pytest.mark.browser


def test_librarian_adds_a_subscriber_and_sees_a_preview(server):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{server}/login")
            page.get_by_label("E-mail").fill("librarian@example.nhs.uk")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Home")  # what needs attention

            page.get_by_role("link", name="Add a subscriber").click()
            page.get_by_label("Name").fill("Dr Asha Khan")
            page.get_by_label("E-mail").fill("asha.khan@example.nhs.uk")
            page.get_by_label("Interest statements").fill("Anticoagulation for stroke prevention in atrial fibrillation")
            page.get_by_role("button", name="Add subscriber").click()
            expect(page.get_by_role("status")).to_have_text("Saved.")

            page.get_by_role("link", name="Preview what Dr Asha Khan would have received last week").click()
            expect(page.get_by_role("heading", name="Apixaban trial relevant to: Anticoagulation for stroke prevention "
                                                    "in atrial fibrillation")).to_be_visible()
            expect(page.locator("main")).to_contain_text("interest")
        finally:
            browser.close()
