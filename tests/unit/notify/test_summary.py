"""Summaries that carry the finding: real abstracts from the shared publisher feeds (read at test
time, turned into item text the way ingest does), and clinical abstracts in the common forms."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from services.ingest.text import html_to_text
from services.notify.summary import abstract_body, holds_finding, summarise
from services.notify.text import sentences

FEEDS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "feeds" / "publishers"


def feed_summary(path: str, title_word: str) -> str:
    """An entry's summary as ingest makes Item.summary of it (HTML to text, paragraphs on lines)."""
    file = FEEDS / path
    if not file.exists():
        pytest.skip("the shared publisher feeds are not here")
    for entry in feedparser.parse(file.read_bytes()).entries:
        if title_word in entry.get("title", ""):
            texts = [entry.get("summary", "")] + [c.get("value", "") for c in entry.get("content", [])]
            return max((html_to_text(t) for t in texts), key=len)
    raise AssertionError(f"no entry titled with {title_word!r} in {path}")


def whole_sentences_of(summary: str, text: str) -> bool:
    body = " ".join(abstract_body(text).split())
    return all(s in body for s in sentences(summary))


def test_structured_pubmed_abstract_gives_results_and_conclusions() -> None:
    text = feed_summary("examples/native-pubmed.xml", "Alternaria")
    summary = summarise(text, "article")
    assert "This study described and illustrated A. koreana as a new species" in summary
    assert "Results showed that present fungal isolates were distinct from other species of the sect. Alternaria." in summary
    assert "leaf spot of Atractylodes ovata in the Mungyeong" not in summary  # the background
    assert "PMID" not in summary and "doi" not in summary.lower()
    assert whole_sentences_of(summary, text) and holds_finding(text, summary)


def test_unstructured_abstract_gives_the_finding_not_the_opening() -> None:
    text = feed_summary("2021-11-23/9d8468d30357f8a07dd790d4ded09d40.xml", "Cyrtodactylus pulchellus")
    summary = summarise(text, "article")
    assert "uncorrected pairwise divergence of 9.78–12.37%" in summary
    assert not summary.startswith("The bent-toed geckos")
    for front in ("ZooKeys 1070", "DOI:", "Authors:", "Abstract:", "PDF"):
        assert front not in summary
    assert 2 <= len(sentences(summary)) <= 3 and whole_sentences_of(summary, text)


def test_results_sentence_is_chosen_over_methods() -> None:
    text = feed_summary("2021-11-24/3b02655ebd1224ba5b4358ef21851be5.xml", "Melanoleuca")
    summary = summarise(text, "article")
    assert "The results showed that the three species formed three independent lineages." in summary
    assert holds_finding(text, summary)


def test_front_matter_before_an_abstract_label_and_wrapped_lines_go() -> None:
    text = feed_summary("2021-11-24/824f23ffb0e31c0cc3a00b24185204ee.xml", "Exobasidiales")
    summary = summarise(text, "article")
    assert "Dudka" not in summary and "Nova Hedwigia" not in summary and "\n" not in summary
    assert "we noted 27 species belonging to the genera Arcticomyces" in summary


def test_names_broken_over_lines_are_joined() -> None:
    text = feed_summary("2021-11-24/6feb2bca6f7e9afe74928a2903a1a484.xml", "endalhagicum")
    summary = summarise(text, "article")
    assert "\n" not in summary and "  " not in summary
    assert whole_sentences_of(summary, text)


SGLT2 = """BACKGROUND: Sodium-glucose cotransporter 2 (SGLT2) inhibitors reduce cardiovascular events in people with type 2 diabetes. Their effect in heart failure with preserved ejection fraction is uncertain.
METHODS: We searched MEDLINE, Embase and CENTRAL to March 2026 for randomised trials comparing SGLT2 inhibitors with placebo. Two reviewers extracted data independently.
RESULTS: Twelve trials with 21,947 participants were included. SGLT2 inhibitors reduced the composite of cardiovascular death or hospitalisation for heart failure (HR 0.81, 95% CI 0.74 to 0.88; I2 = 12%). All-cause mortality did not differ (HR 0.95, 95% CI 0.86 to 1.05).
CONCLUSIONS: SGLT2 inhibitors reduce heart failure events across the range of ejection fraction and should be considered for people with HFpEF."""

CHLORHEXIDINE = ("Healthcare-associated infections remain common in intensive care. Daily bathing with chlorhexidine "
                 "may reduce bloodstream infections. We conducted a cluster randomised crossover trial in 24 intensive "
                 "care units in England, enrolling 9,340 patients. Chlorhexidine bathing reduced central line-associated "
                 "bloodstream infections (RR 0.63, 95% CI 0.49 to 0.81; p<0.001). Skin reactions were rare. Daily "
                 "chlorhexidine bathing should be adopted in adult intensive care units.")

FALLS = ("Background\nInpatient falls cause harm and prolong admissions.\nMethods\nA multicomponent falls prevention "
         "bundle was introduced on 16 wards of three hospitals; we compared falls before and after.\nResults\nFalls fell "
         "from 8.4 to 6.1 per 1,000 bed days (rate ratio 0.73, 95% CI 0.64 to 0.83). Falls with harm were unchanged.\n"
         "Conclusion\nA falls bundle lowered falls on general wards.")

JAMA = ("Importance: Delirium is common after surgery. Objective: To determine whether melatonin prevents delirium. "
        "Design, Setting, and Participants: A randomised clinical trial in 6 hospitals. "
        "Main Outcomes and Measures: Incident delirium. Results: Among 804 patients, delirium occurred in 12.1% with "
        "melatonin and 11.8% with placebo (difference 0.3%; 95% CI -4.2% to 4.8%). "
        "Conclusions and Relevance: Melatonin did not prevent postoperative delirium.")


def test_structured_review_keeps_the_effect_estimate_and_its_interval() -> None:
    summary = summarise(SGLT2, "systematic_review")
    assert "(HR 0.81, 95% CI 0.74 to 0.88; I2 = 12%)" in summary
    assert "should be considered for people with HFpEF." in summary
    assert "We searched MEDLINE" not in summary and "uncertain" not in summary


def test_unstructured_trial_keeps_its_relative_risk() -> None:
    summary = summarise(CHLORHEXIDINE, "trial")
    assert "(RR 0.63, 95% CI 0.49 to 0.81; p<0.001)" in summary
    assert "should be adopted" in summary
    assert not summary.startswith("Healthcare-associated")


def test_headings_on_their_own_lines_and_jama_headings() -> None:
    falls = summarise(FALLS, "observational")
    assert "from 8.4 to 6.1 per 1,000 bed days" in falls and "lowered falls" in falls
    assert "Inpatient falls cause harm" not in falls
    jama = summarise(JAMA, "trial")
    assert "95% CI -4.2% to 4.8%" in jama and "did not prevent postoperative delirium" in jama
    assert "Importance" not in jama and "Objective" not in jama


def test_guidance_is_summarised_by_what_changed() -> None:
    text = ("This guideline covers diagnosing and managing sepsis in adults and children. It aims to improve "
            "recognition. Hospitals have long used early warning scores. We have updated the recommendations on "
            "antibiotic timing: antibiotics should now be given within 1 hour for people at high risk. The new "
            "section replaces the 2016 advice on lactate.")
    summary = summarise(text, "guideline")
    assert summary.startswith("This guideline covers")
    assert "should now be given within 1 hour" in summary and "replaces the 2016 advice on lactate." in summary
    assert "long used early warning scores" not in summary and "It aims" not in summary


def test_never_cut_mid_sentence_and_at_most_three() -> None:
    text = " ".join(f"Sentence {i} reduced falls by {i}% (95% CI 1 to {i + 2})." for i in range(10))
    summary = summarise(text, "trial")
    assert len(sentences(summary)) <= 3 and summary.endswith(".")
    assert whole_sentences_of(summary, text)
    long = "A" * 300 + " reduced risk. " + "B" * 300 + " increased risk. Short end showed nothing."
    assert all(part.endswith(".") for part in sentences(summarise(long, "trial")))


def test_bench_share_of_summaries_with_a_finding_on_real_feeds() -> None:
    from horizon.commands.bench_summaries import items_of, measure

    files = sorted((FEEDS / "examples").glob("*.xml"))
    if not files:
        pytest.skip("the shared publisher feeds are not here")
    result = measure(items_of(files))
    assert result["abstracts"] > 100
    assert result["share"] >= 0.9 and result["share"] > result["share_first_sentences"]


def test_publisher_boilerplate_is_not_a_finding() -> None:
    text = ("Falls are the commonest safety incident on older people's wards. We introduced a bundle on 14 wards. "
            "Falls per 1,000 bed days fell from 8.4 to 6.1, and falls with moderate or severe harm by 35%. "
            "Read the full text & supplementary data.")
    summary = summarise(text, "observational")
    assert "from 8.4 to 6.1" in summary and "Read the full text" not in summary
