"""'Why you got this' says what in the item met the interest, never the group heading again."""

from contracts import EvidenceType, Item, MatchReason
from services.notify.digest import Candidate, build_digest
from services.notify.why import shared_terms, why

from datetime import datetime, timezone

T = datetime(2026, 11, 20, tzinfo=timezone.utc)
AF = "Anticoagulation for stroke prevention in atrial fibrillation"


def item(title: str, summary: str = "") -> Item:
    return Item(item_id="doi:10.1/x", source_id="s", title=title, summary=summary, url="https://x.org/1")


def test_shared_terms_prefer_phrases_and_ignore_common_words() -> None:
    text = "Apixaban versus warfarin in patients with atrial fibrillation: fewer strokes and less bleeding."
    assert shared_terms(AF, text) == ["stroke", "atrial fibrillation"]
    assert shared_terms("Care of older people in the community", "A study of people in care homes") == []


def test_interest_reason_names_the_shared_terms() -> None:
    reasons = (MatchReason(kind="interest", text=AF, score=0.8),)
    line = why(item("Apixaban versus warfarin in atrial fibrillation", "Stroke or systemic embolism fell."), reasons)
    assert line == "Mentions “stroke” and “atrial fibrillation”"
    assert AF not in line


def test_semantic_match_with_no_words_in_common_says_so() -> None:
    reasons = (MatchReason(kind="interest", text="Falls in hospital", score=0.7),)
    assert why(item("Inpatient tumbles on medical wards"), reasons) == "Close in meaning, though in other words"


def test_example_topic_and_evidence_reasons() -> None:
    reasons = (
        MatchReason(kind="example", text="Self-management interventions for chronic heart failure", score=0.8),
        MatchReason(kind="topic", text="Cardiology", score=0.7),
        MatchReason(kind="evidence", text="systematic review", score=1.0),
    )
    line = why(item("Remote monitoring in chronic heart failure: a systematic review"), reasons)
    assert line == ("Shares “chronic heart failure” with your example paper; topic Cardiology; "
                    "a systematic review, as you asked")
    topic_first = (MatchReason(kind="topic", text="Cardiology", score=0.7), MatchReason(kind="interest", text=AF, score=0.5))
    assert why(item("Atrial fibrillation screening"), topic_first) == (
        "Tagged with this topic; your interest in " + AF + " (“atrial fibrillation”)")


def test_digest_line_never_repeats_the_group_heading() -> None:
    cands = [Candidate(item=item(f"Stroke prevention trial {i}"), score=0.8, evidence_type=EvidenceType.trial,
                       urgent=False, matched_at=T, reasons=(MatchReason(kind="interest", text=AF, score=0.8),))
             for i in range(2)]
    group = build_digest(cands, max_items=5).groups[0]
    assert group.heading == AF
    assert all(e.why != group.heading and e.why == "Mentions “stroke prevention”" for e in group.entries)


def test_phrases_keep_their_common_words_and_hyphens() -> None:
    statement = "Infection prevention in intensive care and central line bloodstream infection"
    title = "Daily chlorhexidine bathing to prevent central line-associated bloodstream infection in intensive care"
    assert shared_terms(statement, title) == ["intensive care", "central line", "bloodstream infection"]
    assert shared_terms("Nurse-led care in heart failure", "Nurse-led clinics in heart failure") == ["nurse-led", "heart failure"]
