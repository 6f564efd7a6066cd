"""The tagger's lexical matching and score combination, with a fake embedding function."""

from __future__ import annotations

import numpy as np
import pytest

from services.classify.tagger import Tagger, TermIndex, combine, topic_text
from services.classify.taxonomy import Taxonomy, Topic, load_taxonomy


def _topic(topic_id: str, synonyms: list[str]) -> Topic:
    return Topic(
        id=topic_id, label=topic_id.replace("_", " ").title(), description=f"About {topic_id}.",
        synonyms=synonyms, group="specialty",
    )


SMALL = Taxonomy(
    [
        _topic("stroke", ["stroke", "transient ischaemic attack", "TIA"]),
        _topic("diabetes", ["diabetes", "type 2 diabetes", "HbA1c"]),
        _topic("dementia", ["dementia", "Alzheimer's disease"]),
        _topic("maternity", ["pre-eclampsia", "caesarean", "cesarean"]),
        _topic("nursing", ["nurse", "nursing"]),
    ]
)


class OneHotEmbed:
    """A fake embedding: topic i's text -> unit vector e_i; anything else -> e_last (cosine 0)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.texts = {topic_text(t): i for i, t in enumerate(taxonomy.topics)}
        self.dim = len(taxonomy.topics) + 1
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, self.texts.get(text, self.dim - 1)] = 1.0
        return out

    def unrelated(self, n: int) -> np.ndarray:
        out = np.zeros((n, self.dim), dtype=np.float32)
        out[:, -1] = 1.0
        return out


def _hits(text: str) -> list[str]:
    index = TermIndex(SMALL.topics)
    counts = index.counts([text])[0]
    return [SMALL.topics[i].id for i in np.flatnonzero(counts)]


def test_whole_words_only_case_insensitive() -> None:
    assert _hits("STROKE units in Wales") == ["stroke"]
    assert _hits("Strokes and TIAs after surgery") == ["stroke"]
    assert _hits("Heatstroke in marathon runners") == []
    assert _hits("Nursery provision for working parents") == []


def test_hyphens_spaces_and_apostrophes_read_alike() -> None:
    assert _hits("Pre eclampsia screening") == ["maternity"]
    assert _hits("Preeclampsia screening") == []  # not a listed spelling: synonyms decide
    assert _hits("Alzheimers disease and Alzheimer\u2019s disease") == ["dementia"]


def test_uk_and_us_spellings_both_listed_both_match() -> None:
    assert _hits("Caesarean section rates") == _hits("Cesarean delivery rates") == ["maternity"]


def test_longest_term_wins_and_is_counted_once() -> None:
    index = TermIndex(SMALL.topics)
    assert index.matches("Type 2 diabetes care") == [("type", "2", "diabetes")]
    counts = index.counts(["Type 2 diabetes and diabetes in pregnancy; HbA1c targets"])[0]
    assert counts[1] == 3.0 and counts.sum() == 3.0


def test_combine_is_bounded_and_monotone() -> None:
    cos = np.array([[-1.0, 0.0, 0.15, 0.3, 0.5, 0.9]], dtype=np.float32)
    none = combine(cos, np.zeros_like(cos))
    more = combine(cos, np.full_like(cos, 2.0))
    assert ((none >= 0) & (none <= 1) & (more <= 1)).all()
    assert (np.diff(none[0]) >= 0).all() and (more >= none).all()
    assert none[0, 0] == none[0, 2] == 0.0


def test_tag_combines_semantic_and_lexical_signals_best_first() -> None:
    embed = OneHotEmbed(SMALL)
    tagger = Tagger(SMALL, embed)
    assert len(embed.calls) == 1 and len(embed.calls[0]) == len(SMALL.topics)  # topics embedded once
    texts = [
        "Outcomes after a transient ischaemic attack",  # one hit, vector on 'stroke'
        "A nurse, a nurse and another nurse",  # three hits, vector unrelated
        "Dementia mentioned once",  # one hit, vector unrelated: too weak alone
        "Nothing relevant at all",
    ]
    vectors = embed.unrelated(len(texts))
    vectors[0] = 0.0  # a unit vector mostly on 'stroke', partly on 'diabetes'
    vectors[0, 0], vectors[0, 1] = 0.9, 0.436
    tags = tagger.tag(texts, vectors)
    assert [t.topic_id for t in tags[0]] == ["stroke", "diabetes"]
    assert tags[0][0].score > tags[0][1].score and 0 < tags[0][1].score <= 1
    assert [t.topic_id for t in tags[1]] == ["nursing"]
    assert tags[2] == [] and tags[3] == []
    assert tagger.tag(texts, vectors, threshold=0.2)[2][0].topic_id == "dementia"
    assert [len(t) for t in tagger.tag(texts, vectors, top_k=1)] == [1, 1, 0, 0]


def test_tag_checks_its_inputs() -> None:
    embed = OneHotEmbed(SMALL)
    tagger = Tagger(SMALL, embed)
    assert tagger.tag([], embed.unrelated(0)) == []
    with pytest.raises(ValueError):
        tagger.tag(["one", "two"], embed.unrelated(1))
    with pytest.raises(ValueError):
        Tagger(SMALL, embed, floor=0.5, ceiling=0.2)


def test_packaged_taxonomy_terms_find_clinical_words() -> None:
    taxonomy = load_taxonomy()
    index = TermIndex(taxonomy.topics)
    counts = index.counts(["Paediatric anaemia and pediatric anemia in A&E; hand hygiene on the ICU"])[0]
    found = {taxonomy.topics[i].id for i in np.flatnonzero(counts)}
    assert {"paediatrics", "haematology", "urgent_emergency_care", "infection_prevention_control",
            "critical_care"} <= found
