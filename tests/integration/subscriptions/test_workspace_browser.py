"""From an empty installation, in a real headless Chromium under the app's CSP: the bootstrap admin
adds an organisation and a librarian; the librarian adds a source by its address (ingest's real API
fetching an RSS file from a local HTTP server), adds a subscriber choosing topics by name,
previews (saved and unsaved), saves, sees what was sent and exports the impact CSV.
No page is wider than a 390 px phone.

classify is in process (as in the other browser tests); notify's DigestSent and FeedbackGiven are
recorded as its consumer records them. Set HORIZON_SCREENSHOTS=DIR to keep screenshots of the home
page, a subscriber, a preview, the impact page, the sources, a source, a history and the librarians
at 1280 and 390 px in DIR.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr

from contracts import DigestSent, FeedbackGiven
from services.subscriptions import engagement
from services.subscriptions.app import create_api
from services.subscriptions.ports import HttpIngest
from services.subscriptions.store import session_factory

from .conftest import PASSWORD
from .serving import INGEST_KEY, feed_server, ingest_server, serving

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
ADMIN = "admin@library.example.nhs.uk"
LIBRARIAN = "nia.evans@example.nhs.uk"


async def classify_preview(profile, days):
    """classify's preview, in process: an item per interest, and a safety alert for urgent-alert takers."""
    items = [{"item_id": f"doi:10.1000/{i}", "title": f"Evidence update: {text}", "url": f"https://example.org/{i}",
              "score": 0.82 - i / 10, "summary": f"A review of recent studies on {text.lower()}.",
              "reasons": [{"kind": "interest", "text": text, "score": 0.82}], "evidence_type": "systematic_review",
              "published_at": "2026-11-30T09:00:00+00:00"} for i, text in enumerate(profile.interests)]
    items += [{"item_id": f"topic:{t}", "title": f"New NICE guideline touching {t}", "url": "https://example.org/g",
               "score": 0.6, "reasons": [{"kind": "topic", "text": t, "score": 0.6}], "evidence_type": "guideline",
               "published_at": "2026-11-28T09:00:00+00:00"} for t in profile.topics[:1]]
    return items


def need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but /usr/bin/chromium is missing")
        pytest.skip("no /usr/bin/chromium")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_from_an_empty_installation_to_an_impact_report(settings, engine, tmp_path):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    settings = settings.model_copy(update={"bootstrap_admin_email": ADMIN, "bootstrap_admin_password": SecretStr(PASSWORD)})
    shots = os.environ.get("HORIZON_SCREENSHOTS")
    with feed_server() as feeds, ingest_server(tmp_path) as ingest, \
            serving(create_api(settings, classify=classify_preview, ingest=HttpIngest(ingest, INGEST_KEY), engine=engine)) as app, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

            def fits_a_phone(path: str) -> None:
                page.set_viewport_size({"width": 390, "height": 844})
                width = page.evaluate("document.documentElement.scrollWidth")
                page.set_viewport_size({"width": 1280, "height": 900})
                assert width <= 390, f"{path} is {width} px wide at 390 px"

            def shoot(name: str) -> None:
                fits_a_phone(page.url)
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=f"{shots}/{name}-1280.png", full_page=True)
                    page.set_viewport_size({"width": 390, "height": 844})
                    page.screenshot(path=f"{shots}/{name}-390.png", full_page=True)
                    page.set_viewport_size({"width": 1280, "height": 900})

            def log_in(email: str) -> None:
                page.goto(f"{app}/login")
                page.get_by_label("E-mail").fill(email)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Home")

            # --- the admin, on an installation with nothing in it
            log_in(ADMIN)
            expect(page.locator("main")).to_contain_text("There is no organisation yet.")
            page.get_by_role("link", name="Add your organisation").click()
            page.get_by_label("Name").fill("Example Hospitals NHS Foundation Trust")
            page.get_by_role("button", name="Add organisation").click()
            expect(page.get_by_role("status")).to_contain_text("Example Hospitals NHS Foundation Trust is added")
            fits_a_phone("/organisations")
            page.get_by_role("link", name="Librarians", exact=True).first.click()
            page.get_by_label("Name", exact=True).fill("Nia Evans")
            page.get_by_label("E-mail").fill(LIBRARIAN)
            page.get_by_label("First password").fill(PASSWORD)
            page.get_by_role("button", name="Add librarian").click()
            expect(page.get_by_role("status")).to_contain_text(f"{LIBRARIAN} is added")
            shoot("workspace-librarians")
            page.get_by_role("button", name="Log out").click()

            # --- the librarian: a source by its address
            log_in(LIBRARIAN)
            page.get_by_role("link", name="Sources", exact=True).click()
            page.get_by_role("link", name="Add a source by its address").click()
            page.get_by_label("Feed address").fill(f"{feeds}/feed.xml")
            page.get_by_role("button", name="Fetch a preview").click()
            expect(page.get_by_role("heading", name="Evidence Bulletin for Falls")).to_be_visible()
            expect(page.locator("main")).to_contain_text("2 entries; 2 can be used.")
            page.get_by_role("button", name="Add this source").click()
            expect(page.get_by_role("status")).to_contain_text("Added.")
            shoot("workspace-source")
            page.get_by_role("link", name="Back to sources").click()
            expect(page.get_by_role("link", name="Evidence Bulletin for Falls")).to_be_visible()  # by title, not an id
            shoot("workspace-sources")

            # --- a subscriber, topics by name
            page.get_by_role("link", name="Add a subscriber").click()
            page.get_by_label("Name", exact=True).fill("Dr Asha Khan")
            page.get_by_label("E-mail").fill("asha.khan@example.nhs.uk")
            page.get_by_label("Role or profession").fill("Consultant geriatrician")
            page.get_by_label("Interest statements").fill("Falls prevention in older people")
            page.get_by_label("Or type topics").fill("Older people and frailty")
            page.get_by_label("Cardiology", exact=True).check()
            page.get_by_label("Randomised controlled trial").check()
            page.get_by_label("Evidence Bulletin for Falls").check()
            page.get_by_role("button", name="Add subscriber").click()
            expect(page.get_by_role("status")).to_have_text("Saved.")
            expect(page.get_by_label("Older people and frailty")).to_be_checked()
            sid = re.search(r"/subscribers/([0-9a-f-]{36})", page.url).group(1)
            shoot("workspace-subscriber")

            # --- preview: saved, then an unsaved change beside it, then saved from there
            page.get_by_role("link", name="Preview what Dr Asha Khan would have received last week").click()
            expect(page.locator("main")).to_contain_text("Your evidence update")
            expect(page.get_by_role("heading", name="Evidence update: Falls prevention in older people")).to_be_visible()
            page.go_back()
            page.get_by_label("Interest statements").fill("Falls prevention in older people\nDeprescribing in frailty")
            page.get_by_role("button", name="Preview these changes").click()
            expect(page.get_by_role("heading", name="With your unsaved changes (3 items)")).to_be_visible()
            shoot("workspace-preview")
            page.get_by_role("button", name="Save these changes").click()
            expect(page.get_by_role("status")).to_have_text("Saved.")
            expect(page.get_by_label("Interest statements")).to_have_value("Falls prevention in older people\nDeprescribing in frailty")

            # --- notify sends a digest and the subscriber rates an item (recorded as the relay records them)
            with session_factory(engine)() as session:
                engagement.record_digest(session, DigestSent(
                    producer="notify", digest_id="weekly-1", subscriber_id=sid,
                    organisation_id=session.exec(__import__("sqlmodel").text(
                        "select organisation_id from subscribers")).one()[0],
                    period="2026-W49", item_ids=["doi:10.1000/0", "doi:10.1000/1"],
                    item_titles=["Exercise to prevent falls in older people", "Deprescribing in frailty: a review"],
                    sent_at=datetime.now(timezone.utc) - timedelta(days=1)))
                engagement.record_feedback(session, FeedbackGiven(
                    producer="notify", subscriber_id=sid, item_id="doi:10.1000/0", digest_id="weekly-1", verdict="useful"))
            page.get_by_role("link", name="Deliveries and feedback").click()
            expect(page.get_by_role("heading", name=re.compile("Digest 2026-W49"))).to_be_visible()
            expect(page.locator("table").get_by_text("Exercise to prevent falls in older people")).to_be_visible()
            shoot("workspace-history")

            page.get_by_role("link", name="Home").click()
            expect(page.locator("main")).to_contain_text("e-mails sent (2 items)")
            shoot("workspace-home")

            page.get_by_role("link", name="Impact", exact=True).click()
            page.get_by_label("Break down by").select_option("subscriber")
            page.get_by_role("button", name="Show").click()
            expect(page.locator("tbody th", has_text="Dr Asha Khan")).to_be_visible()
            shoot("workspace-impact")
            with page.expect_download() as download:
                page.get_by_role("link", name="Download these figures as CSV").click()
            text = Path(download.value.path()).read_text()
            assert text.splitlines()[0].startswith("from,to,subscriber,reach,deliveries")
            assert "Dr Asha Khan,1,1,2,0,1,0,0" in text

            page.get_by_role("link", name="Subscribers", exact=True).click()
            fits_a_phone("/subscribers")
            for path in ("/import", "/account", "/tokens", f"/subscribers/{sid}/links", "/sources/new",
                         "/impact?by=source", "/impact?by=topic", "/subscribers/new"):
                page.goto(f"{app}{path}")
                fits_a_phone(path)
            page.goto(f"{app}/subscribers/{sid}/delete")
            expect(page.get_by_role("button", name="Yes, delete Dr Asha Khan")).to_be_visible()
            fits_a_phone("/subscribers/{id}/delete")
            assert problems == []
        finally:
            browser.close()
