"""notify sends only to subscribers subscriptions published, and only within their organisation:
a match for a subscriber it has no profile of is never sent (not as a digest, not as an alert),
a match naming another organisation than the subscriber's profile is dropped, and neither counts
in any organisation's board briefing."""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy

from contracts import EvidenceType

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
NOV = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
DEC_1_0800 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def test_nothing_goes_to_a_subscriber_notify_has_no_profile_of(make, ev) -> None:
    n, t = make()
    n.handle(ev.classified("doi:1", urgent=True))
    n.handle(ev.matched("forged-subscriber", "doi:1", urgent=True))
    assert n.run_due(MONDAY_8, force=True) == []
    assert t.sent == []


def test_a_match_naming_another_organisation_than_the_subscribers_is_dropped(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha", org="org-1"))
    n.handle(ev.classified("doi:planted"))
    n.handle(ev.matched("asha", "doi:planted", org="org-2"))
    assert n.run_due(MONDAY_8, force=True) == []
    n.handle(ev.classified("doi:real"))
    n.handle(ev.matched("asha", "doi:real", org="org-1"))
    [sent] = n.run_due(MONDAY_8, force=True)
    assert sent.item_ids == ["doi:real"] and [m.recipient for m in t.sent] == ["asha@example.nhs.uk"]


def test_a_board_briefing_counts_only_the_organisations_own_subscribers(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("chair", board_briefing=True))
    n.handle(ev.profile("nurse"))
    n.handle(ev.classified("doi:c1", title="Cardiology trial", tags=("cardiology",), at=NOV))
    n.handle(ev.classified("nice:ng1", title="NICE guideline", evidence=EvidenceType.guideline, at=NOV))
    n.handle(ev.matched("nurse", "doi:c1", at=NOV))
    for stranger in ("stranger-1", "stranger-2", "stranger-3"):  # matches for subscribers nobody published
        n.handle(ev.matched(stranger, "doi:c1", at=NOV))
    n.run_briefings(DEC_1_0800)
    [chair] = [m for m in t.sent if m.recipient.startswith("chair@")]
    text = message_from_bytes(chair.raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "1 item of evidence matched the interests of 1 member of staff" in text  # not the strangers
