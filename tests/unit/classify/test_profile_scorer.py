"""The matcher's per-profile scorer agrees with the reference scoring functions it is prepared from."""

import numpy as np

from contracts import TopicTag
from services.classify.index import Hit, ItemFilter
from services.classify.lexical import BRIEF, TRANSLATED
from services.classify.matcher import ASKED_BONUS, TOPIC_BONUS, TRANSLATED_PENALTY, ItemQuery, ProfileScorer
from services.classify.scoring import Calibration, calibrated_score, design_score, example_score, fuse

CAL = Calibration({"interest": (0.1, 0.08), "example": (0.15, 0.07), "lexical": (0.4, 1.3), "contrast": (0.02, 0.09),
                   "design": (-0.3, 0.9)}, cut=9.0)
DESIGN = {"randomised": (1.2, -0.4), "animal": (-2.0, 0.1), "title:placebo": (0.7, -0.05)}


def meta(**extra):
    return {"subscriber_id": "s1", "organisation_id": "o1", "active": 1, "deleted": 0,
            "interests": ["heart failure drugs", "beta blockers"], "examples": ["pmid:1", "pmid:2"],
            "n_interests": 2, "n_examples": 2, "n_contrast": 1, "calibration": CAL.as_payload(),
            "design": {f: list(w) for f, w in DESIGN.items()}, **extra}


def hit(kind, n, score):
    return Hit(f"{kind}-{n}", score, {"subscriber_id": "s1", "kind": kind, "n": n})


def item(design=frozenset(), tags=(), terms=frozenset(), evidence_type="article"):
    return ItemQuery(np.zeros(4, np.float32), {}, terms, ItemFilter(evidence_type, "src"), tags=tags, design=design)


def test_fused_z_and_score_match_the_reference_functions():
    hits = [hit("interest", 1, 0.52), hit("example", 0, 0.61), hit("contrast", 0, 0.33)]
    features = frozenset({"randomised", "title:placebo", "blind"})
    m = ProfileScorer(meta()).score(hits, 6.5, item(features), dense_floor=0.2)
    expected = {"interest": 0.52, "example": example_score([0.61, 0.2]), "lexical": 6.5, "contrast": 0.33,
                "design": design_score(DESIGN, features)}
    z = fuse(expected, CAL)
    assert m is not None and abs(m.z - z) < 1e-9
    assert abs(m.score - calibrated_score(z, CAL.cut)) < 1e-6
    assert m.components == expected
    # reasons, strongest first: the examples' soft maximum (z 5.60) before the best interest (z 5.25)
    assert [(r.kind, r.text) for r in m.reasons] == [("example", "pmid:1"), ("interest", "beta blockers")]


def test_the_gate_is_applied_as_the_reference_fusion_applies_it():
    gated = Calibration(CAL.stats, cut=9.0, gate=(4.0, 1.5))
    scorer = ProfileScorer(meta(calibration=gated.as_payload()))
    features = frozenset({"randomised", "title:placebo"})
    for interest, lexical in ((0.2, 1.0), (0.25, 3.0), (0.7, 9.0)):  # gate shut, half open, open
        hits = [hit("interest", 0, interest), hit("example", 0, 0.6), hit("example", 1, 0.5), hit("contrast", 0, 0.3)]
        m = scorer.score(hits, lexical, item(features), dense_floor=0.1)
        z = fuse({"interest": interest, "example": example_score([0.6, 0.5]), "lexical": lexical,
                  "contrast": 0.3, "design": design_score(DESIGN, features)}, gated)
        assert m is not None and abs(m.z - z) < 1e-9


def test_a_brief_item_is_scored_with_the_brief_statistics_as_the_reference_fusion_scores_it():
    with_brief = Calibration({**CAL.stats, "lexical:brief": (0.1, 0.3)}, cut=9.0, gate=(4.0, 1.5))
    scorer = ProfileScorer(meta(calibration=with_brief.as_payload()))
    hits = [hit("interest", 0, 0.4), hit("example", 0, 0.6), hit("example", 1, 0.5), hit("contrast", 0, 0.3)]
    components = {"interest": 0.4, "example": example_score([0.6, 0.5]), "lexical": 1.2, "contrast": 0.3,
                  "design": design_score(DESIGN, frozenset({BRIEF}))}
    title_only = scorer.score(hits, 1.2, item(frozenset({BRIEF})), dense_floor=0.1)
    abstract = scorer.score(hits, 1.2, item(), dense_floor=0.1)
    assert abs(title_only.z - fuse(components, with_brief, brief=True)) < 1e-9
    assert abs(abstract.z - fuse({**components, "design": design_score(DESIGN, frozenset())}, with_brief)) < 1e-9
    assert title_only.z > abstract.z  # the same words count for more in a title
    # a profile calibrated without brief statistics scores a brief item like any other
    plain = ProfileScorer(meta(calibration=Calibration(CAL.stats, cut=9.0, gate=(4.0, 1.5)).as_payload()))
    assert plain.score(hits, 1.2, item(frozenset({BRIEF})), 0.1).z == plain.score(hits, 1.2, item(), 0.1).z


def test_missing_parts_are_left_out_and_topics_add_their_bonus():
    plain = meta(n_examples=0, examples=[], n_contrast=0, design=None, topics=["cardiology"])
    tag = TopicTag(topic_id="cardiology", label="Cardiology", score=0.8)
    m = ProfileScorer(plain).score([hit("interest", 0, 0.45)], 2.0, item(tags=(tag,)), dense_floor=0.1)
    z = fuse({"interest": 0.45, "lexical": 2.0}, CAL) + TOPIC_BONUS * 0.8
    assert abs(m.z - z) < 1e-9
    assert any(r.kind == "topic" and r.text == "Cardiology" for r in m.reasons)


def test_below_min_score_and_exclusions_give_nothing():
    scorer = ProfileScorer(meta(exclude_terms=[["rat"]]))
    weak = scorer.score([hit("interest", 0, 0.11)], 0.0, item(), dense_floor=0.05, min_score=0.5)
    assert weak is None
    strong = [hit("interest", 0, 0.9), hit("example", 0, 0.9), hit("example", 1, 0.9)]
    assert scorer.score(strong, 20.0, item(), dense_floor=0.05, min_score=0.5) is not None
    assert scorer.score(strong, 20.0, item(terms=frozenset({"rat"})), dense_floor=0.05) is None
    near_exclusion = strong + [hit("exclusion", 0, 0.95)]
    assert scorer.score(near_exclusion, 20.0, item(), dense_floor=0.05) is None


def test_inactive_and_deleted_profiles_are_not_live():
    assert ProfileScorer(meta()).live
    assert not ProfileScorer(meta(active=0)).live
    assert not ProfileScorer(meta(deleted=1)).live


#: Hits of a profile with two examples and a contrast point, for the adjustments after fusion.
HITS = [hit("interest", 0, 0.5), hit("example", 0, 0.5), hit("example", 1, 0.4), hit("contrast", 0, 0.2)]


def test_an_asked_for_kind_of_evidence_lifts_the_item_and_says_so_last():
    scorer = ProfileScorer(meta(asked_types=["systematic_review"]))
    trial = scorer.score(HITS, 4.0, item(evidence_type="trial"), dense_floor=0.1)
    review = scorer.score(HITS, 4.0, item(evidence_type="systematic_review"), dense_floor=0.1)
    assert abs(review.z - trial.z - ASKED_BONUS) < 1e-9 and review.score > trial.score
    assert [r.kind for r in trial.reasons] == ["interest", "example"]
    # the statement stays the reason it is grouped under; the kind is said after it
    assert [(r.kind, r.text) for r in review.reasons][-1] == ("evidence", "systematic review")
    assert review.reasons[0].kind == "interest"
    unasked = ProfileScorer(meta()).score(HITS, 4.0, item(evidence_type="systematic_review"), dense_floor=0.1)
    assert abs(unasked.z - trial.z) < 1e-9


def test_a_translated_article_is_demoted_unless_the_examples_include_one():
    english, translated = item(frozenset({"randomised"})), item(frozenset({"randomised", TRANSLATED}))
    scorer = ProfileScorer(meta())
    assert abs(scorer.score(HITS, 4.0, english, 0.1).z - scorer.score(HITS, 4.0, translated, 0.1).z
               - TRANSLATED_PENALTY) < 1e-9
    reads_them = ProfileScorer(meta(translated_ok=1))
    assert reads_them.score(HITS, 4.0, translated, 0.1).z == reads_them.score(HITS, 4.0, english, 0.1).z
