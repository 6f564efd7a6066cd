"""Ranking, grouping and capping digests."""

from datetime import datetime, timedelta, timezone

from contracts import EvidenceType, Item, MatchReason
from services.notify.digest import Candidate, SharedEntries, build_alert, build_digest

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


def test_subscribers_of_one_page_share_an_items_entry_only_where_it_reads_the_same() -> None:
    item = cand("a", 0.9).item
    alike = [Candidate(item=item, score=s, evidence_type=EvidenceType.guideline, urgent=False, matched_at=T,
                       reasons=(MatchReason(kind="interest", text="Atrial fibrillation", score=s),)) for s in (0.9, 0.6)]
    other = Candidate(item=item, score=0.8, evidence_type=EvidenceType.guideline, urgent=False, matched_at=T,
                      reasons=(MatchReason(kind="interest", text="Stroke prevention", score=0.8),))
    shared = SharedEntries()
    first, second, third = (build_digest([c], 5, make=shared).groups[0].entries[0] for c in (*alike, other))
    assert first is second  # same item, same statement: built once (the reason's score is not shown)
    assert third is not first and third.group == "Stroke prevention" and first.group == "Atrial fibrillation"
    assert [build_digest([c], 5, make=shared) for c in (*alike, other)] == [build_digest([c], 5) for c in (*alike, other)]
    urgent = Candidate(item=item, score=0.9, evidence_type=EvidenceType.guideline, urgent=True, matched_at=T, reasons=alike[0].reasons)
    assert build_alert([urgent], shared).groups[0].entries[0].urgent
