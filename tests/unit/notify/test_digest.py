"""Ranking, grouping and capping digests."""

from datetime import datetime, timedelta, timezone

from contracts import EvidenceType, Item, MatchReason
from services.notify.digest import Candidate, build_alert, build_digest

T = datetime(2026, 11, 20, tzinfo=timezone.utc)


def cand(item_id: str, score: float, reason: str = "AF", kind: str = "interest", urgent: bool = False, age: int = 0) -> Candidate:
    return Candidate(
        item=Item(item_id=item_id, source_id="s", source_title="NICE", title=f"T {item_id}", summary="One. Two. Three. Four.", url=f"https://x.org/{item_id}", published_at=T),
        score=score, evidence_type=EvidenceType.guideline, urgent=urgent, matched_at=T - timedelta(days=age),
        reasons=(MatchReason(kind=kind, text=reason, score=score),),  # type: ignore[arg-type]
    )


def test_digest_ranks_groups_by_first_reason_and_caps() -> None:
    cands = [
        cand("a", 0.5, "AF"), cand("b", 0.9, "Heart failure"), cand("c", 0.7, "AF"),
        cand("d", 0.6, "cardiology", kind="topic"), cand("e", 0.1, "AF"),
    ]
    digest = build_digest(cands, max_items=4)
    assert digest.item_ids == ("b", "c", "d", "a")
    assert digest.overflow_ids == ("e",)
    assert [g.heading for g in digest.groups] == ["Heart failure", "AF", "Topic: cardiology"]
    assert [e.item_id for e in digest.groups[1].entries] == ["c", "a"]
    entry = digest.groups[0].entries[0]
    assert entry.badge == "Guideline" and entry.source == "NICE" and entry.date == "20 Nov 2026"
    assert entry.summary == "One. Two. Three." and entry.group == "Heart failure"
    assert entry.why and entry.why != "Heart failure"  # the heading says the interest; the line says what met it


def test_ties_go_to_the_newest() -> None:
    digest = build_digest([cand("old", 0.5, age=3), cand("new", 0.5, age=0)], max_items=5)
    assert digest.item_ids == ("new", "old")


def test_alert_holds_only_urgent_items() -> None:
    alert = build_alert([cand("a", 0.9), cand("u", 0.3, urgent=True)])
    assert alert.item_ids == ("u",) and alert.groups[0].entries[0].urgent
    assert build_alert([cand("a", 0.9)]).groups == ()
