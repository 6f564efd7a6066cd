"""Calibration and fusion of score components; benchmark metrics."""

import numpy as np

from services.classify.relevance_metrics import average_precision, ndcg_at, set_prf
from services.classify.scoring import Calibration, calibrate, calibrated_score, fuse


def test_calibration_standardises_each_component_against_its_background():
    rng = np.random.default_rng(0)
    cal = calibrate({"interest": rng.normal(0.2, 0.05, 500), "lexical": rng.normal(3.0, 2.0, 500)})
    assert abs(cal.z("interest", 0.3) - 2.0) < 0.3
    assert abs(cal.z("lexical", 7.0) - 2.0) < 0.3


def test_too_little_background_keeps_the_prior():
    assert calibrate({"interest": np.array([0.9, 0.8])}).stats == Calibration().stats


def test_missing_components_do_not_penalise_a_profile():
    cal = Calibration({"interest": (0.0, 0.1), "example": (0.0, 0.1), "lexical": (0.0, 1.0)})
    full = fuse({"interest": 0.3, "example": 0.3, "lexical": 3.0}, cal)
    partial = fuse({"interest": 0.3, "example": None, "lexical": 3.0}, cal)
    assert abs(full - partial) < 1e-9


def test_calibrated_score_is_monotone_in_zero_one():
    values = [calibrated_score(z) for z in (-5, 0, 3, 6, 9, 20)]
    assert values == sorted(values) and 0 <= values[0] and values[-1] <= 1
    assert calibrated_score(float("-inf")) == 0.0


def test_metrics():
    assert average_precision(["a", "x", "b"], {"a", "b"}) == (1 + 2 / 3) / 2
    assert ndcg_at(["a", "b"], {"a": 2, "b": 1}) == 1.0
    assert set_prf({"a", "x"}, {"a", "b"}) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}


def test_design_weights_favour_the_examples_designs_over_the_neighbourhoods():
    from services.classify.scoring import design_score, design_weights

    trial, pk = frozenset({"randomised", "placebo"}), frozenset({"pharmacokinetic", "animal"})
    weights = design_weights([trial] * 3, [trial] * 10 + [pk] * 30,
                             ("randomised", "placebo", "pharmacokinetic", "animal", "survey"))
    assert weights["randomised"][0] > 0 > weights["pharmacokinetic"][0]
    assert design_score(weights, trial) > design_score(weights, frozenset()) > design_score(weights, pk)
    assert design_weights([], [trial], ("randomised",)) == {}


def test_design_weights_learn_nothing_when_examples_look_like_the_neighbourhood():
    from services.classify.scoring import design_score, design_weights

    same = [frozenset({"review"}), frozenset()]
    weights = design_weights(same, same * 20, ("review", "randomised"))
    assert abs(design_score(weights, frozenset({"review"})) - design_score(weights, frozenset())) < 0.2
