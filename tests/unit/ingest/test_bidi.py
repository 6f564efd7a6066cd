"""Unicode bidirectional overrides and isolates in feed text are removed at normalisation, so a
title cannot reorder what a digest shows (a 'txt.exe' that reads as 'exe.txt')."""

from __future__ import annotations

from datetime import datetime, timezone

from contracts import EvidenceType
from services.ingest.normalise import normalise_entry
from services.ingest.parser import parse_feed
from services.ingest.tables import Source
from services.ingest.text import clean_title, html_to_text
from services.notify.branding import Branding
from services.notify.digest import Candidate, build_digest
from services.notify.links import Links
from services.notify.render import Recipient, render_digest

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_clean_text_drops_bidi_controls_and_keeps_the_letters():
    assert clean_title("Evil \u202egnp.exe\u202c title") == "Evil gnp.exe title"
    assert html_to_text("<p>a\u2066b\u2069c</p>") == "abc"
    assert clean_title("\u05e9\u05dc\u05d5\u05dd \u200f") == "\u05e9\u05dc\u05d5\u05dd \u200f".strip()  # RTL text and marks stay


def test_a_bidi_override_in_a_feed_title_never_reaches_a_digest():
    feed = ("<rss version='2.0'><channel><title>Journal \u202eevil\u202c</title><item>"
            "<title>Apixaban \u202etxt.exe\u202c trial</title><link>https://a.example/1</link>"
            "<description>Summary \u2067isolated\u2069 text</description></item></channel></rss>").encode()
    parsed = parse_feed(feed)
    source = Source(id="s", url="https://a.example/rss", title="", publisher="")
    item = normalise_entry(parsed.entries[0], parsed.feed, source)
    assert not any(c in item.title + item.summary + item.source_title + item.publisher for c in BIDI)
    candidate = Candidate(item=item, score=0.9, evidence_type=EvidenceType.trial, urgent=False,
                          matched_at=datetime(2026, 11, 23, tzinfo=timezone.utc), reasons=(), tags=())
    links = Links(secret="s" * 32, self_service_secret="t" * 32, public_base_url="https://n.example",
                  subscriptions_base_url="https://s.example", max_age_s=3600)
    rendered = render_digest(build_digest([candidate], 12), kind="digest", recipient=Recipient("sub", "org", "Asha", "a@example.org"),
                             period_label="week", frequency_word="weekly", digest_id="d", brand=Branding(
                                 "Library", "", "#005EB8", "#212B32", "#F0F4F5"), links=links)
    assert "Apixaban txt.exe trial" in rendered.text
    assert not any(c in rendered.html + rendered.text + rendered.subject for c in BIDI)
