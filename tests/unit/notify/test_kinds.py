"""What a reader gets for each kind of item: corrections and letters apart, full-text requests
only for articles that need one, subjects that name the top item, alerts dated by their day."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from contracts import ContentType, EvidenceType, Item, MatchReason
from services.notify.digest import NOTICES_HEADING, Candidate, build_digest
from services.notify.kinds import CORRECTION, LETTER, free_to_read, notice_kind, offers_full_text
from services.notify.render import subject_and_preheader

from tests.unit.notify.test_render import MONDAY_8, parts

T = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize(("title", "kind"), [
    ("Corrigendum to “Parachute geckos free fall into synonymy: Gekko phylogeny”", CORRECTION),  # a real feed title
    ("Erratum: Apixaban versus warfarin in atrial fibrillation", CORRECTION),
    ("Correction to: SGLT2 inhibitors in HFpEF", CORRECTION),
    ("Retraction note: Ivermectin for COVID-19", CORRECTION),
    ("Reply to: Chlorhexidine bathing and skin reactions", LETTER),
    ("Response to Smith et al.", LETTER),
    ("Letter to the editor: falls bundles on older wards", LETTER),
    ("Comment on “Melatonin for delirium”", LETTER),
    ("Re: Sepsis screening in emergency departments", LETTER),
    ("Correctional health care for older prisoners: a cohort study", ""),
    ("Responsiveness of the EQ-5D in heart failure", ""),
    ("Commentary-free reading: a trial", ""),
])
def test_notice_kind_from_the_title(title: str, kind: str) -> None:
    assert notice_kind(title) == kind


def item(item_id: str, title: str, *, doi: str | None = None, url: str = "https://example.org/x",
         content_type: ContentType = ContentType.journal_article, summary: str = "") -> Item:
    return Item(item_id=item_id, source_id="s", title=title, doi=doi, url=url, content_type=content_type, summary=summary)


def test_full_text_request_only_for_articles_that_are_not_free() -> None:
    paywalled = item("a", "Chlorhexidine bathing in ICU", doi="10.1016/s0140-6736(26)00001-1")
    assert offers_full_text(paywalled, EvidenceType.trial)
    for free in (item("b", "x", doi="10.1371/journal.pmed.1004000"), item("c", "x", doi="10.3897/zookeys.1070.73659"),
                 item("d", "x", url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC123/"),
                 item("e", "x", url="https://www.medrxiv.org/content/10.1101/2026.01.01"),
                 item("f", "x", summary="This is an open access article under the CC BY licence.")):
        assert free_to_read(free) and not offers_full_text(free, EvidenceType.trial)
    guidance = item("g", "Sepsis: recognition", url="https://www.nice.org.uk/guidance/ng51", content_type=ContentType.guideline)
    assert not offers_full_text(guidance, EvidenceType.guideline)
    assert not offers_full_text(paywalled, EvidenceType.guideline)  # guidance in a journal is not requested either
    for kind in (ContentType.policy, ContentType.safety_alert, ContentType.news, ContentType.report):
        assert not offers_full_text(item("h", "x", content_type=kind), EvidenceType.article)


def cand(item_id: str, title: str, score: float) -> Candidate:
    return Candidate(item=item(item_id, title, doi=f"10.1016/{item_id}"), score=score, evidence_type=EvidenceType.article,
                     urgent=False, matched_at=T, reasons=(MatchReason(kind="interest", text="Sepsis", score=score),))


def test_corrections_and_letters_are_labelled_and_grouped_apart_at_the_end() -> None:
    cands = [cand("c", "Corrigendum to “Sepsis screening”", 0.95), cand("p1", "Sepsis screening trial", 0.7),
             cand("l", "Reply to: sepsis screening", 0.9), cand("p2", "Lactate in sepsis", 0.6)]
    digest = build_digest(cands, max_items=5)
    assert [g.heading for g in digest.groups] == ["Sepsis", NOTICES_HEADING]
    assert [e.item_id for e in digest.groups[0].entries] == ["p1", "p2"]
    notices = digest.groups[1].entries
    assert [(e.item_id, e.badge) for e in notices] == [("c", CORRECTION), ("l", LETTER)]
    assert not any(e.full_text for e in notices) and all(e.full_text for e in digest.groups[0].entries)
    omitted = build_digest(cands, max_items=5, notices="omit")
    assert omitted.item_ids == ("p1", "p2") and omitted.left_out_ids == ("c", "l") and omitted.more == 0


def test_subject_names_the_top_item_and_the_preheader_the_next() -> None:
    cands = [cand("a", "NICE updates sepsis guidance", 0.9)] + [cand(f"p{i}", f"Paper {i}", 0.5) for i in range(4)]
    subject, preheader = subject_and_preheader(build_digest(cands, max_items=12), "digest")
    assert subject == "NICE updates sepsis guidance, and 4 more"
    assert preheader == "Also: Paper 0; Paper 1…"
    one, pre = subject_and_preheader(build_digest(cands[:1], max_items=12), "alert")
    assert one == "Urgent: NICE updates sepsis guidance" and pre
    long = cand("l", "Reduced-dose versus standard-dose apixaban in frail older adults: a randomised controlled trial", 0.9)
    assert subject_and_preheader(build_digest([long], max_items=12), "digest")[0] == (
        "Reduced-dose versus standard-dose apixaban in frail older adults")  # the badge says it is a trial


def test_digest_and_alert_e_mails(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha", urgent_alerts=True))
    n.handle(ev.classified("nice:1", title="Sepsis: updated NICE guidance", evidence=EvidenceType.guideline, urgent=True,
                           content_type=ContentType.guideline))
    n.handle(ev.classified("doi:2", title="Stepped-wedge trial of a sepsis bundle", doi="10.1016/x"))
    n.handle(ev.classified("doi:3", title="Erratum: sepsis bundle trial", doi="10.1016/y"))
    for item_id in ("nice:1", "doi:2", "doi:3"):
        n.handle(ev.matched("asha", item_id, urgent=item_id == "nice:1"))
    n.run_due(MONDAY_8)
    alert, digest = t.sent
    text, html = parts(alert.raw)
    assert "Monday 23 November 2026" in text and "week of" not in text
    assert "Request the full text" not in text and "Request the full text" not in html  # guidance: never
    text, html = parts(digest.raw)
    assert "Stepped-wedge trial of a sepsis bundle, and 1 more" in digest.raw.decode()
    assert text.count("Request the full text") == 1  # the paper, not the erratum
    assert text.index(NOTICES_HEADING) > text.index("Stepped-wedge trial") and "[Correction]" in text
    hidden = re.search(r'<div style="display:none[^"]*" aria-hidden="true">([^<&]*)', html)
    assert hidden and hidden.group(1).startswith("Also: Erratum: sepsis bundle trial")  # the preview line
