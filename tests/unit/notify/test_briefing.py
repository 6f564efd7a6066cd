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
