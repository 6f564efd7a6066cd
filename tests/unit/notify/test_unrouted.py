"""Urgent items that matched nobody are reported once; items the library routes are delivered."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

from contracts import EvidenceType, ItemRouted
from tests.unit.notify.conftest import T0


def test_an_alert_that_matched_nobody_is_reported_once_after_the_grace_period(make, ev) -> None:
    n, _ = make(unrouted_grace_s=3600)
    n.handle(ev.profile("nurse"))
    n.handle(ev.classified("alert:bed", title="Bed rails alert", evidence=EvidenceType.safety_alert, urgent=True))
    n.handle(ev.classified("alert:iv", title="IV alert", evidence=EvidenceType.safety_alert, urgent=True))
    n.handle(ev.matched("nurse", "alert:iv", urgent=True))
    n.handle(ev.classified("doi:1", title="A trial nobody wanted"))  # not urgent: never reported
    assert n.notice_unrouted(T0 + timedelta(minutes=30)) == []  # within the grace period a match may still come
    assert n.notice_unrouted(T0 + timedelta(hours=2)) == ["alert:bed"]
    assert n.notice_unrouted(T0 + timedelta(hours=3)) == []
    [event] = n.unrouted_outbox()
    assert (event.item_id, event.title, event.evidence_type) == ("alert:bed", "Bed rails alert", EvidenceType.safety_alert)
    n.mark_unrouted_published([event])
    assert n.unrouted_outbox() == []


def test_a_routed_item_reaches_the_chosen_subscribers_as_sent_by_the_library(make, ev) -> None:
    n, t = make()
    for sid in ("ward", "matron", "other"):
        n.handle(ev.profile(sid))
    n.handle(ev.classified("alert:bed", title="Bed rails alert", evidence=EvidenceType.safety_alert, urgent=True))
    routed = ItemRouted(producer="subscriptions", item_id="alert:bed", organisation_id="org-1",
                        subscriber_ids=["ward", "matron", "ward"], routed_by="librarian@example.nhs.uk")
    n.handle_routed([routed])
    n.handle_routed([routed])  # redelivered: nothing twice
    sent = n.run_due(T0 + timedelta(hours=2))
    assert sorted((s.subscriber_id, s.kind) for s in sent) == [("matron", "alert"), ("ward", "alert")]
    html = message_from_bytes(t.sent[0].raw, policy=policy.default).get_body(("html",)).get_content()
    assert "Bed rails alert" in html and "Sent by your library team" in html
    assert n.notice_unrouted(T0 + timedelta(hours=3)) == []  # it reached people now
