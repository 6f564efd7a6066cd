"""In a real headless Chromium, under the app's CSP: a librarian sends an urgent item that reached
no one to a chosen subscriber, and works a full-text request (supplied, with a note).

Set HORIZON_SCREENSHOTS=DIR to keep screenshots of both pages at 1280 and 390 px in DIR.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from contracts import EvidenceType, FeedbackGiven, ItemUnrouted
from services.subscriptions import requests, unrouted, usecases
from services.subscriptions.models import Organisation
from services.subscriptions.schemas import SubscriberCreate
from services.subscriptions.store import make_engine, session_factory

from .conftest import ARGS, CHROMIUM, PASSWORD, need_chromium

pytestmark = pytest.mark.browser
NOV = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def seed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'subscriptions.db'}")
    with session_factory(engine)() as session:
        [org] = session.query(Organisation).all()
        ward = usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=org.id, name="Sister Grace Okafor", email="grace.okafor@example.nhs.uk",
            role="Ward manager, acute medicine", interests=["Falls prevention"]))
        usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=org.id, name="Dr Asha Khan", email="asha.khan@example.nhs.uk",
            role="Consultant cardiologist", interests=["Atrial fibrillation"]))
        unrouted.record(session, ItemUnrouted(
            producer="notify", item_id="url:https://alerts.example.org/bed-rails",
            title="National patient safety alert: bed rails and entrapment risk on acute adult wards",
            url="https://alerts.example.org/bed-rails", source_title="National Patient Safety Alerts",
            evidence_type=EvidenceType.safety_alert, published_at=NOV, classified_at=NOV))
        requests.record(session, FeedbackGiven(
            producer="notify", subscriber_id=ward.id, organisation_id=org.id, item_id="doi:10.5555/horizon.2026.0007",
            verdict="full_text_request", title="A multifactorial falls prevention bundle on older people's wards",
            url="https://journal.example.org/falls-bundle", occurred_at=NOV), org.id)
        session.commit()
    engine.dispose()


def test_unrouted_list_and_request_queue_under_the_csp(server, tmp_path):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    seed(tmp_path)
    shots = os.environ.get("HORIZON_SCREENSHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.goto(f"{server}/login")
            page.get_by_label("E-mail").fill("librarian@example.nhs.uk")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            page.get_by_role("link", name="Unrouted urgent items").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Urgent items that reached no one")
            expect(page.get_by_role("heading", level=2)).to_contain_text(["bed rails"])
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}/unrouted-1280.png", full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.screenshot(path=f"{shots}/unrouted-390.png", full_page=True)
                page.set_viewport_size({"width": 1280, "height": 800})
            page.get_by_label("Sister Grace Okafor, Ward manager, acute medicine").check()
            page.get_by_label("Note (optional)").fill("For the falls lead")
            page.get_by_role("button", name="Send to the chosen subscribers").click()
            expect(page.get_by_role("status")).to_have_text("Sent to 1 subscriber.")
            expect(page.get_by_role("heading", name="Sent on")).to_be_visible()

            page.get_by_role("link", name="Full-text requests").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Full-text requests")
            expect(page.get_by_role("link", name="DOI 10.5555/horizon.2026.0007")).to_be_visible()
            if shots:
                page.screenshot(path=f"{shots}/requests-1280.png", full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.screenshot(path=f"{shots}/requests-390.png", full_page=True)
                page.set_viewport_size({"width": 1280, "height": 800})
            page.get_by_label("Status", exact=True).select_option("supplied")
            page.get_by_label("Note").fill("PDF sent from our subscription")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_role("status")).to_have_text("Request updated.")
            expect(page.get_by_text("Status: supplied")).to_be_visible()
            assert problems == []
        finally:
            browser.close()
