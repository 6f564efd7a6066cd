"""Monthly board briefings: themes, emerging themes, guidance, once per month and member."""

from __future__ import annotations

from collections import Counter
from html import unescape
from datetime import datetime, timezone
from email import message_from_bytes, policy

from contracts import EvidenceType
from contracts import Item, TopicTag
from services.notify.briefing import BriefItem, emerging_themes, movements

NOV = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
SEP = datetime(2026, 9, 10, 12, 0, tzinfo=timezone.utc)
DEC_1_0759 = datetime(2026, 12, 1, 7, 59, tzinfo=timezone.utc)
DEC_1_0800 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def test_emerging_themes_rise_above_the_baseline() -> None:
    def b(item_id: str, topic: str) -> BriefItem:
        return BriefItem(item=Item(item_id=item_id, source_id="s", title=f"Item {item_id}"), evidence_type=EvidenceType.trial,
                         tags=(TopicTag(topic_id=topic, label=topic.title(), score=0.8),), urgent=False)

    current = [b(f"c{i}", "cardiology") for i in range(6)] + [b(f"o{i}", "oncology") for i in range(4)]
    current += [b(f"r{i}", "renal") for i in range(3)]
    history = [Counter({"oncology": 4}), Counter({"oncology": 4}), Counter({"renal": 3, "oncology": 4})]
    moves = movements(current, history, {"cardiology": "Cardiology"})
    found = emerging_themes(moves)
    assert [(m.label, m.count, m.baseline) for m in found] == [("Cardiology", 6, 0.0), ("Renal", 3, 1.0)]
    assert found[0].change == "6 this month, none in the 3 months before"
    assert found[1].change == "3 this month against an average of 1 a month before: up 200%"
    assert found[0].examples == ("Item c0", "Item c1")


def seed(n, ev) -> None:  # type: ignore[no-untyped-def]
    n.handle(ev.profile("chair", board_briefing=True, organisation_name="Example Hospitals NHS Trust"))
    n.handle(ev.profile("ned", board_briefing=True, urgent_alerts=False))
    n.handle(ev.profile("nurse", role="Ward manager"))
    n.handle(ev.profile("elsewhere", org="org-2", board_briefing=True))
    n.handle(ev.classified("nice:ng1", title="NICE guideline on heart failure", evidence=EvidenceType.guideline, at=NOV))
    for i in range(4):
        n.handle(ev.classified(f"doi:c{i}", title=f"Cardiology trial {i}", tags=("cardiology",), at=NOV))
        n.handle(ev.matched("nurse", f"doi:c{i}", score=0.5 + i / 10, at=NOV))
    n.handle(ev.matched("chair", "doi:c0", at=NOV))
    n.handle(ev.classified("doi:o1", title="Old oncology item", tags=("oncology",), at=SEP))
    n.handle(ev.matched("nurse", "doi:o1", at=SEP))


def test_briefing_goes_once_to_board_members_after_the_month(make, ev) -> None:
    n, t = make()
    seed(n, ev)
    assert n.run_briefings(DEC_1_0759) == []
    sent = n.run_briefings(DEC_1_0800)
    # org-2 has no matches of its own, but national guidance concerns every organisation
    assert sorted((s.subscriber_id, s.kind, s.period) for s in sent) == [
        ("chair", "briefing", "2026-11"), ("elsewhere", "briefing", "2026-11"), ("ned", "briefing", "2026-11"),
    ]
    assert n.run_briefings(DEC_1_0800) == []
    [chair] = [m for m in t.sent if m.recipient.startswith("chair@")]
    msg = message_from_bytes(chair.raw, policy=policy.default)
    assert msg["Subject"] == "Board horizon-scanning briefing: November 2026 - Example Hospitals NHS Trust"
    html = unescape(msg.get_body(preferencelist=("html",)).get_content())  # as a browser shows it
    text = msg.get_body(preferencelist=("plain",)).get_content()
    for part in (html, text):
        flat = part.replace("</strong>", "").replace("<strong>", "")
        assert "items published 1–0 November 2026".replace("–0", "–30") in part
        assert "In summary" in part and "1 new or updated national guideline" in part
        assert "4 items of evidence matched the interests of 2 members of staff" in part
        assert "Themes that moved most" in part and "Cardiology: 5 this month, none in the 3 months before" in flat
        assert "NICE guideline on heart failure" in part and "Cardiology trial 0" in part
        assert "Old oncology item" not in part
        assert "attached as a PDF" in part


def test_nothing_to_brief_sends_nothing(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("chair", board_briefing=True))
    assert n.run_briefings(DEC_1_0800) == [] and n.run_briefings(DEC_1_0800, force=True) == []
    assert t.sent == []


def test_force_briefs_the_current_month_so_far(make, ev) -> None:
    n, _ = make()
    seed(n, ev)
    sent = n.run_briefings(datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc), force=True)
    assert {s.period for s in sent} == {"2026-11"} and len(sent) == 3  # org-2's member gets the guidance


def _pdf(msg):  # type: ignore[no-untyped-def]
    return [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]


def _pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def test_briefing_carries_an_a4_pdf_of_the_month(make, ev) -> None:
    n, t = make()
    seed(n, ev)
    n.handle(ev.classified("doi:c9", title="Cardiology trial with a link", tags=("cardiology",), at=NOV,
                           url="https://journal.example/c9"))
    n.handle(ev.matched("chair", "doi:c9", at=NOV))
    n.run_briefings(DEC_1_0800)
    [chair] = [m for m in t.sent if m.recipient.startswith("chair@")]
    msg = message_from_bytes(chair.raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    assert "NICE guideline on heart failure" in msg.get_body(preferencelist=("html",)).get_content()
    [part] = _pdf(msg)
    assert part.get_filename() == "board-briefing-2026-11.pdf"
    data = part.get_content()
    assert data.startswith(b"%PDF-")
    text, reader = _pdf_text(data)
    flat = " ".join(text.split())
    for expected in ("Board horizon-scanning briefing", "Example Hospitals NHS Trust · November 2026",
                     "Executive summary", "National guidance", "NICE guideline on heart failure", "Emerging themes",
                     "Cardiology trial 0", "Cardiology trial with a link", "Prepared by", "1 December 2026"):
        assert expected in flat, expected
    assert "Page 1 of" in flat and "Old oncology item" not in flat
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert round(width / 72 * 25.4) == 210 and round(height / 72 * 25.4) == 297  # A4 in millimetres
    # the PDF is forwarded and filed: its links are the items' own, not a member's tracked ones
    uris = {a.get_object()["/A"]["/URI"] for page in reader.pages for a in page.get("/Annots", [])
            if a.get_object().get("/A", {}).get("/URI")}
    assert "https://journal.example/c9" in uris and "https://example.org/nice:ng1" in uris
    assert all(u == "https://journal.example/c9" or u.startswith("https://example.org/") for u in uris)
    assert not any(u.startswith("https://horizon.example.org/") for u in uris)  # notify's click links


def test_a_hostile_organisation_name_is_text_in_the_pdf(make, ev) -> None:
    n, t = make()
    hostile = 'Smith & Jones "Trust" </style><script>alert(1)</script>'
    n.handle(ev.profile("chair", board_briefing=True, organisation_name=hostile))
    n.handle(ev.classified("nice:ng1", title="NICE guideline on heart failure", evidence=EvidenceType.guideline, at=NOV))
    n.run_briefings(DEC_1_0800)
    [msg] = [message_from_bytes(m.raw, policy=policy.default) for m in t.sent]
    text, _ = _pdf_text(_pdf(msg)[0].get_content())
    assert hostile in " ".join(text.split())


def test_no_pdf_when_turned_off(make, ev, monkeypatch) -> None:
    n, t = make(briefing_pdf=False)
    seed(n, ev)
    assert len(n.run_briefings(DEC_1_0800)) == 3
    assert all(_pdf(message_from_bytes(m.raw, policy=policy.default)) == [] for m in t.sent)


def test_the_briefing_goes_without_its_pdf_when_the_pdf_cannot_be_made(make, ev, monkeypatch) -> None:
    from services.notify import briefings
    from services.notify.pdf import PdfUnavailable

    def broken(html: str) -> bytes:
        raise PdfUnavailable("WeasyPrint cannot load: no Pango")

    monkeypatch.setattr(briefings, "html_to_pdf", broken)
    n2, t2 = make()
    seed(n2, ev)
    assert len(n2.run_briefings(DEC_1_0800)) == 3  # the e-mail still goes, without its attachment
    assert all(_pdf(message_from_bytes(m.raw, policy=policy.default)) == [] for m in t2.sent)


def seed_board_month(n, ev) -> None:  # type: ignore[no-untyped-def]
    """A month a board cares about: policy, guidance, two alerts (one that reached nobody),
    evidence by theme, and three baseline months with a little cardiology."""
    n.handle(ev.profile("chair", board_briefing=True, organisation_name="Example Hospitals NHS Trust"))
    n.handle(ev.profile("pharm", role="Lead pharmacist"))
    n.handle(ev.profile("nurse", role="Ward manager"))
    for i in range(3):
        n.handle(ev.classified(f"policy:{i}", title=f"Financial framework part {i}", evidence=EvidenceType.policy,
                               tags=("finance",), at=NOV))
    n.handle(ev.classified("report:soc", title="State of care report", evidence=EvidenceType.report, tags=("quality",), at=NOV))
    n.handle(ev.classified("nice:ng1", title="Heart failure guideline", evidence=EvidenceType.guideline, urgent=True, at=NOV))
    n.handle(ev.matched("nurse", "nice:ng1", at=NOV, urgent=True))
    n.handle(ev.matched("pharm", "nice:ng1", at=NOV, urgent=True))
    n.handle(ev.classified("alert:iv", title="Alert: oral liquids by IV route", evidence=EvidenceType.safety_alert,
                           urgent=True, tags=("medicines",), at=NOV))
    n.handle(ev.matched("pharm", "alert:iv", at=NOV, urgent=True))
    n.handle(ev.classified("alert:bed", title="Alert: bed rails entrapment", evidence=EvidenceType.safety_alert,
                           urgent=True, tags=("falls",), at=NOV))
    for i in range(6):
        n.handle(ev.classified(f"doi:c{i}", title=f"Cardiology trial {i}", tags=("cardiology",), at=NOV))
        n.handle(ev.matched("nurse", f"doi:c{i}", score=0.9 - i / 20, at=NOV))
    for month, at in ((8, AUG), (9, SEP), (10, OCT)):
        n.handle(ev.classified(f"doi:old{month}", title=f"Older cardiology {month}", tags=("cardiology",), at=at))
        n.handle(ev.matched("nurse", f"doi:old{month}", at=at))


AUG = datetime(2026, 8, 10, 12, 0, tzinfo=timezone.utc)
OCT = datetime(2026, 10, 10, 12, 0, tzinfo=timezone.utc)


def test_the_briefing_is_built_for_a_board(make, ev) -> None:
    from services.notify.briefing import item_ids
    from services.notify.briefings import gather

    n, _ = make()
    seed_board_month(n, ev)
    b = gather(n, "org-1", 2026, 11)
    assert b.period.covers == "1\u201330 November 2026" and not b.period.so_far
    # policy and regulation first, then guidance: the guideline's urgency takes no policy place
    assert [e.title for e in b.policy] == ["Financial framework part 0", "Financial framework part 1",
                                           "Financial framework part 2", "State of care report"]
    assert [e.title for e in b.guidance] == ["Heart failure guideline"]
    # every alert, whom it reached, the one that reached no one first
    assert [(a.entry.title, a.reach_text) for a in b.alerts] == [
        ("Alert: bed rails entrapment", "Reached no one"), ("Alert: oral liquids by IV route", "Reached 1 (Lead pharmacist)"),
    ]
    assert "4 national policy or regulation items, 1 new or updated national guideline and 2 patient safety alerts " \
           "(1 reached no one here)" in b.what_changed
    # real change against the baseline months, with examples
    cardio = b.emerging[0]
    assert [m.label for m in b.emerging] == ["Cardiology", "Finance"]
    assert (cardio.label, cardio.count, cardio.baseline) == ("Cardiology", 7, 1.0)  # the guideline is cardiology too
    assert cardio.change == "7 this month against an average of 1 a month before: up 600%"
    assert cardio.examples == ("Heart failure guideline", "Cardiology trial 0")
    assert b.moved[0].label == "Cardiology" and len(b.moved) == 3
    assert b.trend.months == ("Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026")
    assert ("Cardiology", (1, 1, 1, 7)) in b.trend.series
    # evidence by theme holds only what is not national; nothing twice anywhere
    assert [(t.label, [e.title for e in t.entries]) for t in b.themes] == [
        ("Cardiology", ["Cardiology trial 0", "Cardiology trial 1", "Cardiology trial 2"])]
    shown = [a.entry.item_id for a in b.alerts] + [e.item_id for e in (*b.policy, *b.guidance)]
    shown += [e.item_id for t in b.themes for e in t.entries]
    assert len(shown) == len(set(shown)) == len(item_ids(b))
    # figures: only what is known (nothing was sent this month, so nothing could be opened)
    assert dict(b.figures) == {"new items scanned": 13, "items matched to staff": 8, "staff with matches": 2}


def test_a_month_with_no_history_says_so_instead_of_calling_everything_new(make, ev) -> None:
    from services.notify.briefings import gather

    n, _ = make()
    n.handle(ev.profile("nurse"))
    for i in range(4):
        n.handle(ev.classified(f"doi:c{i}", tags=("cardiology",), at=NOV))
        n.handle(ev.matched("nurse", f"doi:c{i}", at=NOV))
    b = gather(n, "org-1", 2026, 11)
    assert not b.has_baseline and b.emerging == ()
    html = _print_html(b)
    assert "no earlier months to compare with yet" in html


def _print_html(briefing, chart: bytes | None = None) -> str:  # type: ignore[no-untyped-def]
    from services.notify.branding import Branding
    from services.notify.briefing_render import render_briefing_print

    brand = Branding(library_name="Library", logo_url="", primary="#005EB8", text="#212B32", background="#F0F4F5")
    return render_briefing_print(briefing, organisation="Example Hospitals NHS Trust", brand=brand,
                                 prepared="1 December 2026", chart=chart)


def test_every_box_of_the_pdf_fits_within_the_a4_margins(make, ev) -> None:
    """The tables (alerts, figures) and the chart stay inside the text block of every page."""
    import weasyprint

    from services.notify.briefings import gather
    from services.notify.chart import theme_chart_png

    n, _ = make()
    seed_board_month(n, ev)
    n.handle(ev.classified("alert:long", title="Alert " + "Pneumococcal-conjugate-vaccine-" * 6,
                           evidence=EvidenceType.safety_alert, urgent=True, at=NOV))
    b = gather(n, "org-1", 2026, 11)
    chart = theme_chart_png(b.trend)
    assert chart is not None and chart.startswith(b"\x89PNG")
    document = weasyprint.HTML(string=_print_html(b, chart)).render()
    assert len(document.pages) >= 2
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        right = box.margin_width() - box.margin_right  # the page's right margin edge, in CSS px
        for child in box.children[0].descendants():  # the document, not the page's margin boxes
            if hasattr(child, "position_x") and child.width is not None:
                assert child.position_x + child.margin_width() <= right + 0.5, (number, type(child).__name__)


def test_on_the_briefing_day_a_board_members_digest_waits_until_the_next_day(make, ev) -> None:
    """The briefing is the day's one e-mail: the digest due that morning goes the next day."""
    dec_1_7 = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)  # a Tuesday; the digest's hour
    n, t = make()
    n.handle(ev.profile("chair", board_briefing=True, frequency="daily", hour=7))
    n.handle(ev.profile("nurse", frequency="daily", hour=7))
    n.handle(ev.classified("nice:ng1", title="NICE guideline on heart failure", evidence=EvidenceType.guideline, at=NOV))
    for sid in ("chair", "nurse"):
        n.handle(ev.classified(f"doi:{sid}", at=datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)))
        n.handle(ev.matched(sid, f"doi:{sid}", at=datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)))
    assert [(s.subscriber_id, s.kind) for s in n.run_due(dec_1_7)] == [("nurse", "digest")]
    assert [(s.subscriber_id, s.kind) for s in n.run_briefings(DEC_1_0800)] == [("chair", "briefing")]
    assert n.run_due(datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)) == []
    sent = n.run_due(datetime(2026, 12, 2, 7, 0, tzinfo=timezone.utc))
    assert [(s.subscriber_id, s.kind, s.item_ids) for s in sent] == [("chair", "digest", ["doi:chair"])]


def test_the_briefing_day_spacing_can_be_turned_off(make, ev) -> None:
    n, _ = make(briefing_day_mail="off")
    n.handle(ev.profile("chair", board_briefing=True, frequency="daily", hour=7))
    n.handle(ev.classified("doi:1", at=datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)))
    n.handle(ev.matched("chair", "doi:1", at=datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)))
    assert [s.kind for s in n.run_due(datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc))] == ["digest"]
