"""Evidence-type inference and urgency on realistic titles and abstracts."""

from __future__ import annotations

import pytest

from contracts import Item, TopicTag
from contracts.vocab import ContentType, EvidenceType
from services.classify.evidence import asked_evidence_types, infer_evidence_type, is_urgent

J = ContentType.journal_article
E = EvidenceType


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("SGLT2 inhibitors and kidney outcomes: a systematic review and meta-analysis", "", E.systematic_review),
        ("Exercise for frailty in older adults: a meta analysis of randomised trials", "", E.systematic_review),
        ("Metaanalysis of anticoagulant use in cancer-associated thrombosis", "", E.systematic_review),
        ("Interventions to reduce nurse burnout: an umbrella review", "", E.systematic_review),
        ("Effect of dapagliflozin in heart failure: a randomized controlled trial", "", E.trial),
        ("Cluster randomised trial of a sepsis screening tool in emergency departments", "", E.trial),
        ("A falls prevention bundle on acute wards: a stepped-wedge trial", "", E.trial),
        ("Stepped wedge evaluation of a deterioration score in 12 hospitals", "", E.trial),
        ("Chlorhexidine bathing in intensive care: a cluster-randomized crossover study", "", E.trial),
        ("Text reminders for cervical screening: a cluster trial in general practice", "", E.trial),
        ("A double-blind, placebo-controlled study of melatonin for delirium", "", E.trial),
        ("Nurse-led follow-up after stroke (FOLLOW): a pragmatic trial", "", E.trial),
        ("Secondary analysis of a randomised trial of tranexamic acid", "", E.trial),
        ("Statins and dementia risk: a target trial emulation using primary care records", "", E.observational),
        ("Socioeconomic deprivation and stroke outcomes: a population-based cohort study", "", E.observational),
        ("Risk factors for surgical site infection: a case-control study", "", E.observational),
        ("Burnout among UK midwives: a cross-sectional survey", "", E.observational),
        ("Patients' experiences of virtual wards: a qualitative interview study", "", E.qualitative),
        ("Barriers to deprescribing in care homes: focus groups with GPs and pharmacists", "", E.qualitative),
        ("Adherence to NICE guidelines for hypertension in primary care: a cohort study", "", E.observational),
        ("Hypertension in adults: diagnosis and management. Summary of updated NICE guidance", "", E.guideline),
        ("2024 ESC Guidelines for the management of atrial fibrillation", "", E.guideline),
        ("Clinical practice guideline on the prevention of pressure ulcers", "", E.guideline),
        ("Management of chronic cough in adults: a narrative review", "", E.review),
        ("Artificial intelligence in radiology: a scoping review", "", E.review),
        ("Anaphylaxis after a wasp sting: a case report", "", E.article),
        # tricky negatives: protocols and comments are not the results they describe
        ("Protocol for a systematic review of digital interventions for anxiety", "", E.article),
        ("Effect of early mobilisation after hip fracture: study protocol for a randomised controlled trial", "", E.article),
        ("Comment on: Effect of aspirin on cancer incidence, a randomized trial", "", E.article),
        ("Correction to: Meta-analysis of vitamin D supplementation", "", E.article),
        ("Response to immunotherapy in advanced melanoma: a cohort study", "", E.observational),
        ("Sepsis in 2025: what clinicians need to know", "", E.article),
    ],
)
def test_journal_titles(title: str, summary: str, expected: EvidenceType) -> None:
    assert infer_evidence_type(title, summary, J) == expected


def test_structured_abstract_design_line_decides_when_the_title_is_silent() -> None:
    summary = (
        "Background: Randomised controlled trials of this drug are lacking. "
        "Design: Retrospective cohort study using linked hospital records. "
        "Results: 12,000 patients were included."
    )
    assert infer_evidence_type("Valproate exposure and outcomes", summary, J) == E.observational


def test_a_design_mentioned_in_the_background_does_not_count() -> None:
    summary = (
        "Previous meta-analyses have shown benefit of early rhythm control. "
        "We conducted a prospective cohort study of 4,000 patients with atrial fibrillation."
    )
    assert infer_evidence_type("Early rhythm control in practice", summary, J) == E.observational


def test_a_stepped_wedge_or_cluster_design_in_the_abstract_is_a_trial() -> None:
    summary = ("Falls cause harm in hospital. We did a stepped-wedge cluster evaluation of a falls bundle on 16 wards. "
               "Falls fell from 8.4 to 6.1 per 1,000 bed days.")
    assert infer_evidence_type("Reducing inpatient falls with a multicomponent bundle", summary, J) == E.trial


def test_the_studys_own_design_in_an_abstract_counts() -> None:
    summary = "In this multicentre, randomized, open-label trial we assigned 600 adults to ..."
    assert infer_evidence_type("Oral versus intravenous antibiotics for bone infection", summary, J) == E.trial


def test_a_protocol_abstract_is_not_the_trial() -> None:
    summary = "This protocol describes a randomised controlled trial of weekly home visits."
    assert infer_evidence_type("Home visits for frail older people", summary, J) == E.article


def test_us_and_uk_spellings_read_alike() -> None:
    uk = infer_evidence_type("Paediatric anaemia: a randomised controlled trial of iron", "", J)
    us = infer_evidence_type("Pediatric anemia: a randomized controlled trial of iron", "", J)
    assert uk == us == E.trial


def test_news_about_a_trial_is_news() -> None:
    assert infer_evidence_type("A trial of a new weight-loss jab shows promise", "", ContentType.news) == E.news
    assert infer_evidence_type("Meta-analysis finds statins safe", "", ContentType.news) == E.news


@pytest.mark.parametrize(
    ("title", "content_type", "expected"),
    [
        ("Valproate: new safety measures for men", ContentType.safety_alert, E.safety_alert),
        ("National Patient Safety Alert: risk of death from nasogastric tube misplacement", ContentType.policy, E.safety_alert),
        ("Class 2 medicines recall: batches of salbutamol inhalers", ContentType.other, E.safety_alert),
        ("Field safety notice: infusion pump software fault", ContentType.report, E.safety_alert),
        ("Impact of National Patient Safety Alerts on hospital practice: a cross-sectional study", J, E.observational),
        ("Hypertension in adults: diagnosis and management (NG136)", ContentType.guideline, E.guideline),
        ("Delivery plan for recovering urgent and emergency care services", ContentType.policy, E.policy),
        ("NHS workforce statistics, September", ContentType.report, E.report),
        ("Health Technology Assessment: a randomised controlled trial of compression stockings", ContentType.report, E.trial),
        ("Government response to the consultation on tobacco and vapes", ContentType.other, E.policy),
        ("Letter from the Chief Nursing Officer", ContentType.other, E.article),
        ("Untitled bulletin", ContentType.other, E.other),
    ],
)
def test_source_kind_and_precedence(title: str, content_type: ContentType, expected: EvidenceType) -> None:
    assert infer_evidence_type(title, "", content_type) == expected


def _item(title: str, content_type: ContentType) -> Item:
    return Item(item_id="hash:x", source_id="s", title=title, content_type=content_type)


def _tag(topic_id: str, score: float) -> TopicTag:
    return TopicTag(topic_id=topic_id, label=topic_id, score=score)


def test_safety_alerts_are_urgent() -> None:
    item = _item("National Patient Safety Alert: oxygen cylinders", ContentType.policy)
    assert is_urgent(item, E.safety_alert, [])


def test_new_guidance_from_a_guideline_source_is_urgent_but_a_consultation_is_not() -> None:
    assert is_urgent(_item("Sepsis: recognition and management (NG51)", ContentType.guideline), E.guideline, [])
    draft = _item("Sepsis: draft guidance consultation", ContentType.guideline)
    assert not is_urgent(draft, E.guideline, [])


def test_guideline_in_a_journal_is_not_urgent() -> None:
    item = _item("2024 ESC Guidelines for the management of atrial fibrillation", J)
    assert not is_urgent(item, E.guideline, [_tag("cardiology", 0.9)])


def test_urgent_topics_count_outside_journals_and_only_when_strong() -> None:
    news = _item("Measles outbreak declared in the West Midlands", ContentType.news)
    assert is_urgent(news, E.news, [_tag("outbreaks_emerging_infections", 0.7)])
    assert not is_urgent(news, E.news, [_tag("outbreaks_emerging_infections", 0.3)])
    assert not is_urgent(news, E.news, [_tag("cardiology", 0.9)])
    paper = _item("Measles outbreaks in Europe, 2010-2020: a cohort study", J)
    assert not is_urgent(paper, E.observational, [_tag("outbreaks_emerging_infections", 0.9)])


def test_urgent_topics_can_come_from_a_custom_taxonomy() -> None:
    news = _item("Heatwave warning for care homes", ContentType.news)
    tags = [_tag("sustainability_net_zero", 0.8)]
    assert not is_urgent(news, E.news, tags)
    assert is_urgent(news, E.news, tags, urgent_topics={"sustainability_net_zero"})


@pytest.mark.parametrize("statement, expected", [
    ("Systematic literature reviews, mapping studies and evidence-based practice in software engineering research.",
     [E.systematic_review]),
    ("Randomised controlled trials and meta-analyses of exercise in COPD", [E.systematic_review, E.trial]),
    ("Qualitative research on patients' experience of dialysis", [E.qualitative]),
    ("Cohort studies of statin harms in older people", [E.observational]),
    ("NICE guidance on sepsis in the emergency department", [E.guideline]),
    # a subject, not a kind of evidence: the statement leaves the kind open
    ("ACE inhibitors such as enalapril and ramipril: comparative effectiveness and adverse effects.", []),
    ("Population-based screening for bowel cancer", []),
    ("Results of the NHS staff survey on burnout", []),
])
def test_the_kinds_of_evidence_a_statement_asks_for(statement: str, expected: list[EvidenceType]) -> None:
    assert asked_evidence_types(statement) == expected
