"""A realistic digest on a phone: every action a 24 px target or more, none touching another (WCAG
2.2 target size), nothing wider than the screen; the same digest at desktop width.

Items come from the demo's sample feeds (horizon/samples/sources), normalised as ingest does and
typed as classify does; each is matched to the interest it shares most words with.
Set HORIZON_SCREENSHOTS=DIR to keep the screenshots (digest-desktop.png, digest-phone.png) in DIR.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from itertools import zip_longest
from pathlib import Path

import pytest

from contracts import ContentType, Item, ItemClassified, ItemMatched, MatchReason, Profile, ProfileChanged
from services.classify.evidence import infer_evidence_type
from services.ingest.normalise import Dropped, normalise_entry
from services.ingest.parser import parse_feed
from services.ingest.tables import Source
from services.notify.bootstrap import build_notifier
from services.notify.why import shared_terms

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
SAMPLES = Path(__file__).resolve().parents[3] / "horizon" / "samples" / "sources"
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
FEEDS = {"journal-cardiology": ContentType.journal_article, "pubmed-search": ContentType.journal_article,
         "guidance": ContentType.guideline}
INTERESTS = [
    "Heart failure: drug treatment, readmission and nurse-led care",
    "Anticoagulation and stroke prevention in atrial fibrillation",
    "Infection prevention in intensive care and central line bloodstream infection",
]
# notices about papers, as journal feeds carry them (made up, like the rest of the sample data)
NOTICES = [
    ("doi:10.5555/horizon.2026.9001", "Correction to: SGLT2 inhibitors in heart failure with preserved ejection fraction",
     "In the results, the number of participants was misstated; the effect estimates are unchanged."),
    ("doi:10.5555/horizon.2026.9002", "Reply to: Reduced-dose apixaban in frail older adults",
     "We thank the correspondents for their interest in our trial of apixaban dosing in atrial fibrillation."),
]

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but /usr/bin/chromium is missing (install chromium chromium-driver)")
        pytest.skip("no /usr/bin/chromium")


def sample_items() -> list[Item]:
    """The sample feeds' items, taken from each feed in turn (so the best mix guidance and papers)."""
    feeds: list[list[Item]] = []
    for name, kind in FEEDS.items():
        parsed = parse_feed((SAMPLES / f"{name}.xml").read_bytes())
        made = [normalise_entry(e, parsed.feed, Source(id=name, url="sample", content_type=kind)) for e in parsed.entries]
        feeds.append([i for i in made if not isinstance(i, Dropped)])
    items: dict[str, Item] = {}
    for row in zip_longest(*feeds):
        for item in row:
            if item is not None:
                items.setdefault(item.item_id, item)
    return list(items.values())


def digest_html(settings) -> str:  # type: ignore[no-untyped-def]
    settings = settings.model_copy(update={"library_name": "Example Hospitals Library and Knowledge Service", "max_items": 6})
    n = build_notifier(settings)
    n.handle(ProfileChanged(producer="subscriptions", subscriber_id="asha", organisation_id="org-1", version=1,
                            profile=Profile(name="Dr Asha Khan", email="asha.khan@example.nhs.uk",
                                            interests=INTERESTS, urgent_alerts=False)))
    items = sample_items() + [Item(item_id=i, source_id="journal-cardiology", source_title="Journal of Cardiac Practice",
                                   title=t, summary=s, url=f"https://cardiacpractice.example.org/{i[4:]}",
                                   published_at=MONDAY_8 - timedelta(days=3)) for i, t, s in NOTICES]
    for rank, item in enumerate(items):
        text = f"{item.title}. {item.summary}"
        overlap = {i: len(shared_terms(i, text, limit=10)) for i in INTERESTS}
        interest = max(INTERESTS, key=lambda i: overlap[i])
        if not overlap[interest]:
            continue
        evidence = infer_evidence_type(item.title, item.summary, item.content_type)
        n.handle(ItemClassified(producer="classify", occurred_at=MONDAY_8, item=item, evidence_type=evidence))
        n.handle(ItemMatched(producer="classify", occurred_at=MONDAY_8, item_id=item.item_id, subscriber_id="asha",
                             organisation_id="org-1", score=round(0.95 - rank * 0.02, 2), evidence_type=evidence,
                             reasons=[MatchReason(kind="interest", text=interest, score=0.8)]))
    n.run_due(MONDAY_8)
    n.close()
    return next(settings.outbox_dir.glob("*.html")).read_text(encoding="utf-8")


TARGETS = """() => [...document.querySelectorAll('a')].map(a => {
  const r = a.getBoundingClientRect();
  return {text: a.textContent.trim(), x: r.x, y: r.y, w: r.width, h: r.height,
          action: !!a.closest('.actions')};
})"""


def test_phone_targets_are_large_and_apart_and_screenshots(settings) -> None:  # type: ignore[no-untyped-def]
    _need_chromium()
    from playwright.sync_api import sync_playwright

    html = digest_html(settings)
    assert "Corrections, letters and replies" in html and ">Trial<" in html and ">Guideline<" in html
    page_file = settings.outbox_dir / "digest.html"
    page_file.write_text(html, encoding="utf-8")
    shots = os.environ.get("HORIZON_SCREENSHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(page_file.resolve().as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            targets = page.evaluate(TARGETS)
            actions = [t for t in targets if t["action"]]
            assert {t["text"] for t in actions} >= {"Useful", "Not relevant", "Request the full text"}
            for t in targets:  # actions, titles and the footer's links alike
                assert t["w"] >= 24 and t["h"] >= 24, t
            for i, a in enumerate(actions):
                for b in actions[i + 1:]:
                    apart_x = a["x"] + a["w"] + 4 <= b["x"] or b["x"] + b["w"] + 4 <= a["x"]
                    apart_y = a["y"] + a["h"] + 4 <= b["y"] or b["y"] + b["h"] + 4 <= a["y"]
                    assert apart_x or apart_y, (a, b)
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}/digest-phone.png", full_page=True)
                page.set_viewport_size({"width": 1280, "height": 900})
                page.screenshot(path=f"{shots}/digest-desktop.png", full_page=True)
        finally:
            browser.close()
