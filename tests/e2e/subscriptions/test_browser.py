"""In a real headless Chromium: a librarian logs in, adds a subscriber with an interest, sees a preview."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest
from pydantic import SecretStr

from services.subscriptions import accounts
from services.subscriptions.app import create_api
from services.subscriptions.settings import SubscriptionsSettings
from services.subscriptions.store import create_schema, make_engine, session_factory

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but /usr/bin/chromium is missing (install chromium chromium-driver)")
        pytest.skip("no /usr/bin/chromium")


async def classify_preview(profile, days):
    """classify's preview API, served in process."""
    return [{"item_id": "doi:10.1000/af", "title": f"Apixaban trial relevant to: {profile.interests[0]}",
             "url": "https://example.org/af", "score": 0.91,
             "reasons": [{"kind": "interest", "text": profile.interests[0], "score": 0.91}],
             "evidence_type": "trial", "published_at": "2026-11-20T09:00:00+00:00"}]


async def no_sources():
    return []


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'subscriptions.db'}"
    engine = make_engine(url)
    create_schema(engine)
    with session_factory(engine)() as session:
        org = accounts.ensure_organisation(session, "Example Hospitals NHS Trust")
        accounts.create_librarian(session, "librarian@example.nhs.uk", PASSWORD, "librarian", [org.id])
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = SubscriptionsSettings(database_url=url, secret_key=SecretStr("browser-test-secret-0123456789"),
                                     public_base_url=base)
    api = create_api(settings, classify=classify_preview, ingest=no_sources, engine=engine)
    srv = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(400):  # wait for the server to be up (not a timing assertion)
        if srv.started:
            break
        time.sleep(0.05)
    yield base
    srv.should_exit = True
    thread.join(timeout=30)


def test_librarian_adds_a_subscriber_and_sees_a_preview(server):
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{server}/login")
            page.get_by_label("E-mail").fill("librarian@example.nhs.uk")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Subscribers")

            page.get_by_role("link", name="Add a subscriber").click()
            page.get_by_label("Name").fill("Dr Asha Khan")
            page.get_by_label("E-mail").fill("asha.khan@example.nhs.uk")
            page.get_by_label("Interest statements").fill("Anticoagulation for stroke prevention in atrial fibrillation")
            page.get_by_role("button", name="Add subscriber").click()
            expect(page.get_by_role("status")).to_have_text("Saved.")

            page.get_by_role("link", name="Preview what Dr Asha Khan would have received last week").click()
            expect(page.get_by_role("heading", level=2).first).to_contain_text(
                "Apixaban trial relevant to: Anticoagulation for stroke prevention in atrial fibrillation")
            expect(page.locator("main")).to_contain_text("interest")
        finally:
            browser.close()
