"""Calibration and fusion of score components; benchmark metrics."""

import numpy as np

from horizon.bench.relevance_metrics import average_precision, ndcg_at, set_prf
from services.classify import fusion
from services.classify.fusion import COMPONENTS, FIT_WEIGHT, GATE_SHARE, Calibration, design_weights


def calibrate(columns: dict) -> Calibration:
    """One profile's Calibration from its components' scores over the background (named columns)."""
    n = len(next(iter(columns.values())))
    comps = np.array([[columns.get(c, np.zeros(n))] for c in COMPONENTS], dtype=np.float64)
    return fusion.calibrate_many(comps, np.array([[c in columns for c in COMPONENTS]]))[0]


def z(cal: Calibration, name: str, value: float) -> float:
    mean, std = cal.stats_of(name)
    return (value - mean) / std


def fuse(components: dict, cal: Calibration) -> float:
    """The fused z of one item against one profile (fusion.fused, one row and one column)."""
    present = np.array([[components.get(c) is not None for c in COMPONENTS]])
    comps = np.array([[[components.get(c) or 0.0]] for c in COMPONENTS])
    return float(fusion.fused(fusion.Maps.of([cal], present), comps)[0, 0])


def gate_at(cal: Calibration, topical: float) -> float:
    maps = fusion.Maps.of([cal], np.ones((1, len(COMPONENTS)), bool))
    return float(fusion.gate_at(maps, np.array([[topical]]))[0, 0])


def test_calibration_standardises_each_component_against_its_background():
    rng = np.random.default_rng(0)
    cal = calibrate({"interest": rng.normal(0.2, 0.05, 500), "lexical": rng.normal(3.0, 2.0, 500)})
    assert abs(z(cal, "interest", 0.3) - 2.0) < 0.3
    assert abs(z(cal, "lexical", 7.0) - 2.0) < 0.3


def test_too_little_background_keeps_the_prior():
    assert calibrate({"interest": np.array([0.9, 0.8])}).stats == Calibration().stats


def test_missing_components_do_not_penalise_a_profile():
    cal = Calibration({"interest": (0.0, 0.1), "example": (0.0, 0.1), "lexical": (0.0, 1.0)})
    full = fuse({"interest": 0.3, "example": 0.3, "lexical": 3.0}, cal)
    partial = fuse({"interest": 0.3, "example": None, "lexical": 3.0}, cal)
    assert abs(full - partial) < 1e-9


GATED = Calibration({"interest": (0.0, 0.1), "example": (0.0, 0.1), "lexical": (0.0, 1.0), "design": (0.0, 1.0)},
                    gate=(3.0, 1.5))


def test_fit_to_the_examples_counts_only_for_items_about_the_profile():
    # a trial that looks like the examples (fit z 3 each) but is barely about the profile (topical z 0.5 each)
    off_topic_trial = {"interest": 0.05, "lexical": 0.5, "example": 0.3, "design": 3.0}
    # an item squarely about the profile (topical z 3 each) that resembles the examples less (fit z 0)
    on_topic = {"interest": 0.3, "lexical": 3.0, "example": 0.0, "design": 0.0}
    assert fuse(off_topic_trial, Calibration(GATED.stats)) > fuse(on_topic, Calibration(GATED.stats))  # plain sum
    assert fuse(on_topic, GATED) > fuse(off_topic_trial, GATED)
    # past the gate, the fit part counts in full: FIT_WEIGHT times its z
    on_topic_trial = {**on_topic, "example": 0.3, "design": 3.0}
    gain = fuse(on_topic_trial, GATED) - fuse(on_topic, GATED)
    assert abs(gain - FIT_WEIGHT * 6.0 * gate_at(GATED, 6.0)) < 1e-9 and gate_at(GATED, 6.0) > 0.99
    assert gate_at(GATED, 1.0) < 0.01


def test_without_a_background_the_gate_holds_at_half_and_fusion_is_a_plain_sum():
    cal = Calibration(GATED.stats)
    parts = {"interest": 0.2, "lexical": 1.0, "example": 0.1, "design": 0.5}
    assert gate_at(cal, -50.0) == gate_at(cal, 50.0) == 0.5
    assert abs(fuse(parts, cal) - sum(z(cal, k, v) for k, v in parts.items())) < 1e-9
    assert Calibration.from_payload({"stats": {}, "cut": 9.0}).gate is None  # a profile stored before the gate
    # statistics of components since removed, stored by an earlier version, are left out
    old = Calibration.from_payload({"stats": {"contrast": [0.0, 0.1], "lexical:brief": [0.2, 0.4]}, "cut": 9.0})
    assert old.stats == Calibration().stats


def test_calibration_places_the_gate_at_the_top_share_of_its_background():
    rng = np.random.default_rng(1)
    columns = {"interest": rng.normal(0.1, 0.05, 2000), "lexical": rng.normal(1.0, 1.0, 2000),
               "example": rng.normal(0.1, 0.05, 2000)}
    cal = calibrate(columns)
    topical = (columns["interest"] - 0.1) / 0.05 + (columns["lexical"] - 1.0)
    assert cal.gate is not None and abs(np.mean(topical > cal.gate[0]) - GATE_SHARE) < 0.01
    assert abs(cal.gate[1] - np.std(topical)) < 0.1
    assert Calibration.from_payload(cal.as_payload()) == cal
    assert calibrate({k: columns[k] for k in ("interest", "lexical")}).gate is None  # nothing to gate


def test_calibrated_score_is_monotone_in_zero_one_and_half_at_the_cut():
    values = fusion.calibrated(np.array([[-np.inf, -5, 0, 3, 6, 9, 20, 1e6]]), np.array([6.0]))[0]
    assert list(values) == sorted(values) and values[0] == 0.0 and values[-1] <= 1 and values[4] == 0.5


def test_metrics():
    assert average_precision(["a", "x", "b"], {"a", "b"}) == (1 + 2 / 3) / 2
    assert ndcg_at(["a", "b"], {"a": 2, "b": 1}) == 1.0
    assert set_prf({"a", "x"}, {"a", "b"}) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}


def test_the_example_score_is_the_mean_of_the_cosines_to_the_examples_and_the_top_their_best():
    entries = fusion.Entries.build(3, owner=[0, 0, 0, 2], part=[0, 1, 2, 1])  # profile 1 has none
    cosines = np.array([[0.3, 0.7], [0.5, 0.1], [0.4, 0.1]])  # three parts against two items
    mean, top = fusion.example(entries, cosines)
    assert np.allclose(mean[0], [0.4, 0.3]) and np.allclose(mean[2], [0.5, 0.1]) and np.isneginf(mean[1]).all()
    assert np.allclose(top[0], [0.5, 0.7])


def weights_of(examples: list, neighbours: list, features: tuple) -> dict:
    def count(designs: list) -> np.ndarray:
        return np.array([sum(f in d for d in designs) for f in features], dtype=np.float64)
    return design_weights(count(examples), len(examples), count(neighbours), len(neighbours), features)


def design_score(weights: dict, found: frozenset) -> float:
    return sum(w[0] if f in found else w[1] for f, w in weights.items())


def test_design_weights_favour_the_examples_designs_over_the_neighbourhoods():
    trial, pk = frozenset({"randomised", "placebo"}), frozenset({"pharmacokinetic", "animal"})
    weights = weights_of([trial] * 3, [trial] * 10 + [pk] * 30,
                         ("randomised", "placebo", "pharmacokinetic", "animal", "survey"))
    assert weights["randomised"][0] > 0 > weights["pharmacokinetic"][0]
    assert design_score(weights, trial) > design_score(weights, frozenset()) > design_score(weights, pk)


def test_design_weights_learn_nothing_when_examples_look_like_the_neighbourhood():
    same = [frozenset({"review"}), frozenset()]
    weights = weights_of(same, same * 20, ("review", "randomised"))
    assert abs(design_score(weights, frozenset({"review"})) - design_score(weights, frozenset())) < 0.2
