"""Matching behaviour end to end through the Classifier, on Qdrant Edge and on qdrant-client's local mode."""

from __future__ import annotations

from contracts import EvidenceType, Profile, derived_event_id
from services.classify.profiles import key_id, point_id

from .conftest import item_event, profile_event, tombstone

FILLER = [
    ("Knee replacement rehabilitation outcomes", "Physiotherapy after total knee arthroplasty in older adults."),
    ("Dental caries in schoolchildren", "Fluoride varnish programmes and tooth decay in primary schools."),
    ("Hospital discharge planning", "Nurse-led discharge and readmission rates in medical wards."),
    ("Antibiotic stewardship", "Prescribing audits reduce broad-spectrum antibiotic use in hospitals."),
]
#: The interest statement the atrial-fibrillation items answer.
AF_INTEREST = "Anticoagulation for stroke prevention in atrial fibrillation"
AF = item_event("doi:10.1/af", "Apixaban versus warfarin for stroke prevention in atrial fibrillation",
                "Anticoagulation with apixaban reduced stroke and bleeding in patients with atrial fibrillation.")
AF_CHILD = item_event("doi:10.1/af-child", "Anticoagulation for atrial fibrillation in paediatric patients",
                      "Stroke prevention with warfarin in children with atrial fibrillation and heart disease.")

#: An item about hip fracture surgery that a falls-prevention statement alone does not reach,
#: and an example paper on the same question (title, abstract) that brings it in.
TIMING_PAPER = ("Timing of hip fracture surgery and mortality",
                "Surgery delayed beyond 36 hours raised mortality after hip fracture in older patients.")


def hip_item(item_id):
    return item_event(item_id, "Hip fracture surgery timing and mortality",
                      "Early surgery within 36 hours after hip fracture lowered mortality in frail older patients.")


def timing_paper(item_id, **fields):
    return item_event(item_id, *TIMING_PAPER, **fields)


def matched_ids(result, subscriber_id="s1"):
    return {m.item_id for m in result.matched if m.subscriber_id == subscriber_id}


def assert_matched_through_the_timing_paper(result, item_id):
    """Matched, and the reason names the example paper by its title, which a reader understands."""
    assert matched_ids(result) == {item_id}
    assert any(r.kind == "example" and r.text == TIMING_PAPER[0] + "." for r in result.matched[0].reasons)


def warm(classifier):
    classifier.classify([item_event(f"doi:10.9/{n}", t, s) for n, (t, s) in enumerate(FILLER)])


def test_an_interest_matches_with_reasons_and_derived_ids(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event("s1", interests=[AF_INTEREST])])
    result = classifier.classify([AF])
    assert [c.item.item_id for c in result.classified] == ["doi:10.1/af"]
    assert matched_ids(result) == {"doi:10.1/af"}
    match = result.matched[0]
    assert match.event_id == derived_event_id(AF.event_id, "s1")
    assert match.reasons[0].kind == "interest"
    assert match.reasons[0].text.startswith("Anticoagulation")
    assert 0.0 <= match.score <= 1.0


def test_an_exclusion_removes_an_item(classifier):
    warm(classifier)
    interests = [AF_INTEREST]
    classifier.apply_profiles([profile_event("s1", interests=interests)])
    assert matched_ids(classifier.classify([AF_CHILD])) == {"doi:10.1/af-child"}
    classifier.apply_profiles([profile_event("s1", version=2, interests=interests, exclude=["paediatric"])])
    again = item_event("doi:10.1/af-child2", AF_CHILD.item.title, AF_CHILD.item.summary)
    assert matched_ids(classifier.classify([again, AF])) == {"doi:10.1/af"}


def test_a_content_type_filter_holds(classifier):
    warm(classifier)
    interests = [AF_INTEREST]
    classifier.apply_profiles([profile_event("s1", interests=interests, content_types=[EvidenceType.guideline])])
    article = classifier.classify([AF])
    assert matched_ids(article) == set()
    guideline = item_event("url:nice/af", AF.item.title, AF.item.summary, content_type="guideline")
    result = classifier.classify([guideline])
    assert result.classified[0].evidence_type == EvidenceType.guideline
    assert matched_ids(result) == {"url:nice/af"}


def test_a_deleted_profile_stops_matching_and_older_events_stay_ignored(classifier):
    warm(classifier)
    live = profile_event("s1", version=1, interests=[AF_INTEREST])
    classifier.apply_profiles([live])
    assert matched_ids(classifier.classify([AF])) == {"doi:10.1/af"}
    classifier.apply_profiles([tombstone("s1", version=2)])
    classifier.apply_profiles([live])  # a late redelivery of the older version
    second = item_event("doi:10.1/af2", AF.item.title, AF.item.summary)
    assert matched_ids(classifier.classify([second])) == set()


def test_a_new_example_paper_changes_what_matches(classifier):
    warm(classifier)
    hip = hip_item("doi:10.1/hip")
    classifier.apply_profiles([profile_event("s1", interests=["Falls prevention in care homes"])])
    assert matched_ids(classifier.classify([hip])) == set()
    classifier.apply_profiles([profile_event(
        "s1", version=2, interests=["Falls prevention in care homes"], examples=["doi:10.1/example"],
        example_texts=["Timing of hip fracture surgery and mortality. Surgery delayed beyond 36 hours raised "
                       "mortality after hip fracture in older patients."],
    )])
    hip2 = hip_item("doi:10.1/hip2")
    assert_matched_through_the_timing_paper(classifier.classify([hip2]), "doi:10.1/hip2")


def test_an_example_given_only_by_reference_is_found_among_seen_items(classifier):
    warm(classifier)
    seen = timing_paper("doi:10.1/seen-example", doi="10.1/seen-example", pmid="31234567")
    classifier.classify([seen])
    hip = hip_item("doi:10.1/hip")
    # subscriptions could not resolve either paper: no texts; one is known by its PMID only
    classifier.apply_profiles([profile_event(
        "s1", interests=["Falls prevention in care homes"], examples=["pmid:31234567", "doi:10.1/never-seen"],
        example_texts=["", ""],
    )])
    assert classifier.model_of("s1").example_refs == ["pmid:31234567"]
    assert_matched_through_the_timing_paper(classifier.classify([hip]), "doi:10.1/hip")


def test_a_profile_awaiting_an_example_paper_takes_it_up_when_the_paper_arrives(classifier):
    warm(classifier)
    interests = ["Falls prevention in care homes"]
    page = "https://journal.example.org/hip-timing"
    event = profile_event("s1", interests=interests, examples=[page], example_texts=[""])
    classifier.apply_profiles([event])
    assert classifier.index.retrieve([point_id("s1", "awaiting")])
    hip = hip_item("doi:10.1/hip")
    assert matched_ids(classifier.classify([hip])) == set()
    paper = timing_paper(f"url:{page}", url=page)
    classifier.classify([paper])  # the awaited paper comes through a feed: the profile is applied again
    assert classifier.index.retrieve([point_id("s1", "awaiting")]) == []
    assert classifier.model_of("s1").example_refs == [page]
    hip2 = hip_item("doi:10.1/hip2")
    result = classifier.classify([hip2])
    assert matched_ids(result) == {"doi:10.1/hip2"}
    assert any(r.kind == "example" and r.text.startswith("Timing of hip fracture") for r in result.matched[0].reasons)
    classifier.apply_profiles([event])  # the same event redelivered changes nothing
    assert classifier.model_of("s1").example_refs == [page]


def test_an_item_marked_useful_steers_like_an_example_paper(classifier):
    warm(classifier)
    useful = timing_paper("doi:10.1/useful")
    classifier.classify([useful])
    interests = ["Falls prevention in care homes"]
    classifier.apply_profiles([profile_event("s1", interests=interests)])
    hip = hip_item("doi:10.1/hip")
    assert matched_ids(classifier.classify([hip])) == set()
    classifier.apply_profiles([profile_event("s1", version=2, interests=interests, liked=["doi:10.1/useful"])])
    hip2 = hip_item("doi:10.1/hip2")
    assert_matched_through_the_timing_paper(classifier.classify([hip2]), "doi:10.1/hip2")


def test_the_same_work_as_an_item_marked_not_relevant_is_not_sent_again(classifier):
    warm(classifier)
    interests = [AF_INTEREST]
    classifier.apply_profiles([profile_event("s1", interests=interests)])
    assert matched_ids(classifier.classify([AF])) == {"doi:10.1/af"}
    classifier.apply_profiles([profile_event("s1", version=2, interests=interests, disliked=["doi:10.1/af"])])
    copy = item_event("url:other-source/af", AF.item.title, AF.item.summary)  # the same work from another feed
    other = item_event("doi:10.1/af-bleeding", "Bleeding risk scores before anticoagulation in atrial fibrillation",
                       "Stroke prevention with oral anticoagulants and major bleeding in elderly patients.")
    assert matched_ids(classifier.classify([copy, other])) == {"doi:10.1/af-bleeding"}
    [disliked] = classifier.model_of("s1").parts["disliked"]
    assert classifier.table.parts.labels[classifier.table.parts.row[disliked]] == "doi:10.1/af"


def test_example_texts_stay_paired_with_their_references(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event(
        "s1", interests=["Falls prevention in care homes"], examples=["doi:10.1/unresolved", "doi:10.1/given"],
        example_texts=["", "Timing of hip fracture surgery and mortality in older patients."],
    )])
    model = classifier.model_of("s1")
    assert model.example_refs == ["doi:10.1/given"] and len(model.parts["example"]) == 1


def test_profile_changed_applied_twice_changes_nothing(classifier):
    warm(classifier)
    event = profile_event("s1", interests=[AF_INTEREST])
    classifier.apply_profiles([event])
    ids = [point_id("s1", "profile"), key_id("model", classifier.table.subscribers["s1"].model)]
    before = classifier.index.retrieve(ids)
    count = classifier.index.count()
    classifier.classify([AF])  # more items seen: a re-applied profile would be calibrated anew
    classifier.apply_profiles([event])
    assert classifier.index.count() == count
    assert classifier.index.retrieve(ids) == before


def test_a_redelivered_item_event_is_not_processed_twice(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event("s1", interests=[AF_INTEREST])])
    assert len(classifier.classify([AF]).classified) == 1
    assert classifier.classify([AF]).classified == []


def test_preview_shows_recent_items_a_draft_would_match(classifier):
    warm(classifier)
    classifier.classify([AF])
    from contracts import Profile

    draft = Profile(name="d", email="d@example.org", interests=[AF_INTEREST])
    rows = classifier.preview(draft, days=7)
    assert [r.item_id for r in rows] == ["doi:10.1/af"]
    assert rows[0].reasons[0].kind == "interest"


def test_recent_items_keep_their_design_markers_for_calibration(classifier):
    """The markers found when an item was classified travel with it into the recent store, so
    that applying a profile reads them rather than scanning every background text again."""
    from services.classify import classifier as classifier_module
    from services.classify import lexical
    from services.classify.embedder import item_text

    trial = item_event("doi:10.1/trial", "A randomised placebo-controlled trial of apixaban",
                       "We randomised 300 patients in a double-blind trial over 12 weeks.")
    classifier.classify([trial])
    [stored] = [it for it in classifier.recent.since(0, limit=10) if it.item_id == "doi:10.1/trial"]
    expected = lexical.design_features(item_text(trial.item.title, trial.item.summary))
    assert {"randomised", "placebo", "blind"} <= expected
    assert stored.payload["design"] == sorted(expected)
    assert classifier_module._design(stored) == expected
    from dataclasses import replace

    older = replace(stored, payload={k: v for k, v in stored.payload.items() if k != "design"})
    assert classifier_module._design(older) == expected  # an item stored before markers were kept


def test_markers_stored_under_an_older_version_are_read_again(classifier):
    """Markers stored under an older DESIGN_VERSION are found again in the stored text; those of
    the current version are trusted as they are (no second scan of the text)."""
    from dataclasses import replace

    from services.classify import classifier as classifier_module
    from services.classify import lexical

    classifier.classify([item_event("doi:10.1/rct", "A randomised trial of apixaban after hip fracture", "")])
    [stored] = [it for it in classifier.recent.since(0, limit=10) if it.item_id == "doi:10.1/rct"]
    assert stored.payload["design_version"] == lexical.DESIGN_VERSION
    assert "randomised" in classifier_module._design(stored)
    old = {k: v for k, v in stored.payload.items() if k != "design_version"}
    old["design"] = []  # as an older version stored it
    assert "randomised" in classifier_module._design(replace(stored, payload=old))
    trusted = {**stored.payload, "design": ["placebo"]}
    assert classifier_module._design(replace(stored, payload=trusted)) == {"placebo"}


def test_a_statement_asking_for_systematic_reviews_puts_them_first_and_says_why(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event(
        "s1", interests=["Systematic reviews of anticoagulation for stroke prevention in atrial fibrillation"])])
    assert classifier.model_of("s1").asked_types == ["systematic_review"]
    summary = "Apixaban and warfarin for stroke prevention in atrial fibrillation: stroke and bleeding outcomes."
    review = item_event("doi:10.1/af-sr", "Anticoagulation in atrial fibrillation: a meta-analysis", summary)
    trial = item_event("doi:10.1/af-rct", "Anticoagulation in atrial fibrillation: a randomised controlled trial",
                       summary)
    result = classifier.classify([review, trial])
    kinds = {c.item.item_id: c.evidence_type for c in result.classified}
    assert kinds == {"doi:10.1/af-sr": EvidenceType.systematic_review, "doi:10.1/af-rct": EvidenceType.trial}
    scores = {m.item_id: m for m in result.matched}
    assert scores["doi:10.1/af-sr"].score > scores["doi:10.1/af-rct"].score
    assert scores["doi:10.1/af-sr"].reasons[0].kind == "interest"
    assert ("evidence", "systematic review") in [(r.kind, r.text) for r in scores["doi:10.1/af-sr"].reasons]
    assert all(r.kind != "evidence" for r in scores["doi:10.1/af-rct"].reasons)


def test_a_translated_paper_ranks_below_the_same_paper_in_english(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event("s1", interests=[AF_INTEREST])])
    translated = item_event("pmid:2", f"[{AF.item.title}]", AF.item.summary)  # MEDLINE's translated title
    scores = {m.item_id: m.score for m in classifier.classify([AF, translated]).matched}
    assert scores["doi:10.1/af"] > scores.get("pmid:2", 0.0)


def test_a_profile_whose_examples_include_a_translated_paper_takes_such_papers(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event("s1", interests=["Falls prevention in care homes"])])
    assert classifier.model_of("s1").translated_ok is False
    classifier.apply_profiles([profile_event(
        "s1", version=2, interests=["Falls prevention in care homes"], examples=["pmid:1"],
        example_texts=["[Falls in nursing homes: a prospective study]. Falls were recorded for a year."])])
    assert classifier.model_of("s1").translated_ok is True


def test_an_item_is_scored_with_the_words_of_its_nearest_recent_items(classifier):
    """A paper that names none of the statement's words still reaches the subscriber through its
    neighbours: recent papers on the same drugs that do name them (document expansion)."""
    from services.classify.neighbours import MIN_POOL

    af = [item_event(f"doi:10.6/af{n}", f"Apixaban and warfarin in atrial fibrillation: cohort {n}",
                     f"Stroke prevention and bleeding with apixaban or warfarin anticoagulation in {50 + n} patients.")
          for n in range(30)]
    other = [item_event(f"doi:10.6/x{n}", f"{t}: service evaluation {n}", s) for n, (t, s) in enumerate(FILLER * 8)]
    classifier.classify(af + other)
    assert len(af + other) >= MIN_POOL
    classifier.apply_profiles([profile_event("s1", interests=[AF_INTEREST])])
    classifier.matcher.threshold = 0.0  # every candidate's score, to compare them
    # neither names anticoagulation, stroke, prevention, atrial or fibrillation; the first one's
    # nearest recent items do
    near = item_event("doi:10.6/near", "Warfarin or dabigatran: bleeding in older patients")
    far = item_event("doi:10.6/far", "Dental caries and fluoride varnish in older patients")
    scores = {m.item_id: m.score for m in classifier.classify([near, far]).matched if m.subscriber_id == "s1"}
    assert scores["doi:10.6/near"] > scores.get("doi:10.6/far", 0.0)
    # the preview scores recent items the same way
    preview = {p.item_id: p.score for p in classifier.preview(
        Profile(name="d", email="d@example.org", interests=[AF_INTEREST]), days=1)}
    assert preview["doi:10.6/near"] > preview.get("doi:10.6/far", 0.0)
