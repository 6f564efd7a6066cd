"""Monthly board briefings: themes, emerging themes, guidance, once per month and member."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from email import message_from_bytes, policy

from contracts import EvidenceType
from services.notify.briefing import emerging_themes

NOV = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
SEP = datetime(2026, 9, 10, 12, 0, tzinfo=timezone.utc)
DEC_1_0759 = datetime(2026, 12, 1, 7, 59, tzinfo=timezone.utc)
DEC_1_0800 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def test_emerging_themes_rise_above_the_baseline() -> None:
    current = Counter({"cardiology": 6, "oncology": 4, "diabetes": 2, "renal": 3})
    history = [Counter({"oncology": 4}), Counter({"oncology": 4}), Counter({"renal": 3, "oncology": 4})]
    found = emerging_themes(current, history, {"cardiology": "Cardiology"})
    assert [(e.label, e.change) for e in found] == [("Cardiology", "new this month"), ("renal", "up 200% on the 3-month average")]


def seed(n, ev) -> None:  # type: ignore[no-untyped-def]
    n.handle(ev.profile("chair", board_briefing=True, organisation_name="Example Hospitals NHS Trust"))
    n.handle(ev.profile("ned", board_briefing=True, urgent_alerts=False))
    n.handle(ev.profile("nurse"))
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
    html = msg.get_body(preferencelist=("html",)).get_content()
    text = msg.get_body(preferencelist=("plain",)).get_content()
    for part in (html, text):
        assert "Key national guidance and policy" in part and "NICE guideline on heart failure" in part
        assert "Emerging themes" in part and "Cardiology: 4 items, new this month" in part.replace("</strong>", "").replace("<strong>", "")
        assert "Cardiology trial 0" in part and "Matched the interests of 2 colleagues" in part
        assert "Old oncology item" not in part
    assert "new items scanned: 5" in text and "staff with matches: 2" in text
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


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
                     "Key national guidance and policy", "NICE guideline on heart failure", "Emerging themes",
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
