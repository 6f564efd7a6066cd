"""Lexical terms, spelling folding and BM25-weighted sparse vectors."""

import numpy as np

from services.classify import lexical


def test_uk_and_us_spellings_share_terms():
    assert lexical.terms("Oestrogen in paediatric tumours") == lexical.terms("Estrogen in pediatric tumors")


def test_stop_words_are_dropped_and_plurals_folded():
    assert lexical.terms("The effects of the inhibitors") == ["effect", "inhibitor"]


def test_rare_terms_weigh_more_than_common_ones():
    stats = lexical.TermStats()
    stats.add([["trial", "warfarin"], ["trial", "aspirin"], ["trial", "placebo"]])
    vec = lexical.item_vector(["trial", "warfarin"], stats)
    assert vec[lexical.term_id("warfarin")] > vec[lexical.term_id("trial")]


def test_a_profiles_words_are_its_statements_words_and_its_examples_most_telling_ones():
    from horizon.bench.reference import RefPart, profile_lexical
    from services.classify.parts import example_part, statement_part
    from services.classify.profiles import ProfileModel

    stats = lexical.TermStats()
    stats.add([lexical.terms("apixaban warfarin stroke"), lexical.terms("knee surgery")])
    parts = [statement_part("stroke prevention"), statement_part("atrial fibrillation anticoagulation"),
             example_part("doi:1", "Apixaban versus warfarin for stroke", stats)]
    refs = {p.key: RefPart(np.zeros(2), p.lexical, len(lexical.terms(p.text))) for p in parts}
    model = ProfileModel("m", {"interest": [parts[0].key, parts[1].key], "example": [parts[2].key]})
    q = profile_lexical(model, refs)
    assert abs(sum(q.values()) - 1.0) < 1e-9
    # the statements hold a fifth of the mass, by their words (2 + 3); the example the rest
    assert abs(q[lexical.term_id("prevention")] - 0.2 / 5) < 1e-12
    assert abs(q[lexical.term_id("anticoagulation")] - 0.2 / 5) < 1e-12
    assert lexical.term_id("apixaban") in q and q[lexical.term_id("stroke")] > q[lexical.term_id("prevention")]


def test_term_stats_round_trip(tmp_path):
    stats = lexical.TermStats()
    stats.add([["a1", "b2"], ["b2"]])
    stats.save(tmp_path / "s.json")
    again = lexical.TermStats.load(tmp_path / "s.json")
    assert (again.n_docs, again.df["b2"], again.idf("a1")) == (2, 2, stats.idf("a1"))


def test_design_features_name_the_design_in_the_text_and_in_the_title():
    found = lexical.design_features(
        "Amlodipine versus placebo: a randomised trial. We randomly assigned 120 patients for 12 weeks.")
    assert {"randomised", "placebo", "comparative", "sample", "duration", "title:randomised", "title:placebo"} <= found
    assert "title:sample" not in found and "animal" not in found
    assert "animal" in lexical.design_features("Pharmacokinetics of amlodipine in rats. Plasma concentrations fell.")
    assert set(lexical.design_features("Any text at all.")) <= set(lexical.DESIGN_FEATURES)


def test_a_bracketed_title_marks_an_article_not_in_english():
    translated = lexical.design_features(
        "[Effect of nisoldipine and diltiazem on left ventricular function in angina]. Twenty patients were studied.")
    assert lexical.TRANSLATED in translated
    assert lexical.TRANSLATED not in lexical.DESIGN_FEATURES  # a language, not a design to learn from examples
    # a bracketed isotope label or a bracket later in the title is not a translation
    assert not lexical.translated("[18F]FDG PET in heart failure. A cohort study.")
    assert not lexical.translated("Heart failure [corrected]. Results of a trial.")
