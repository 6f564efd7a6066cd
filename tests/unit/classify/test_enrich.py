"""The enricher applies a librarian-edited taxonomy file, evidence type and urgency."""

from __future__ import annotations

import numpy as np

from contracts import ContentType, EvidenceType, Item
from services.classify.enrich import Enricher

EDITED = """
version: 1
topics:
  - id: tissue_viability
    label: Tissue viability
    group: specialty
    description: Pressure ulcers, wounds and the care of the skin.
    synonyms: [pressure ulcer, pressure ulcers, wound care, pressure injury]
  - id: product_recalls
    label: Product recalls
    group: safety
    urgent: true
    description: Products withdrawn from use because they may harm patients.
    synonyms: [recall, product recall, withdrawn from use]
"""


def _embed(texts: list[str]) -> np.ndarray:
    """Every topic's text embeds to the same axis."""
    return np.tile(np.eye(1, 8, 7, dtype=np.float32), (len(texts), 1))


def _items(texts: list[str]) -> np.ndarray:
    """Items lie on another axis (cosine 0 to every topic): only the lexical half can score."""
    return np.tile(np.eye(1, 8, 0, dtype=np.float32), (len(texts), 1))


def test_a_librarian_edited_taxonomy_file_is_used_for_tags_and_urgency(tmp_path):
    path = tmp_path / "taxonomy.yaml"
    path.write_text(EDITED)
    enricher = Enricher(_embed, max_tags=3, taxonomy_path=path, tag_threshold=0.2)
    texts = ["Preventing pressure ulcers with wound care bundles on older people's wards",
             "Atrial fibrillation and anticoagulation"]
    tags = enricher.tags(texts, _items(texts))
    assert [t.topic_id for t in tags[0]] == ["tissue_viability"]
    assert tags[1] == []

    recall = Item(item_id="url:x", source_id="alerts", title="Product recall: dressing packs withdrawn from use",
                  content_type=ContentType.news)
    recall_tags = enricher.tags([recall.title], _items([recall.title]))
    assert [t.topic_id for t in recall_tags[0]] == ["product_recalls"]
    kind = enricher.evidence_type(recall)
    assert enricher.urgent(recall, kind, [t.model_copy(update={"score": 0.9}) for t in recall_tags[0]])


def test_no_tags_wanted_means_no_tagger_and_no_tags():
    enricher = Enricher(_embed, max_tags=0)
    assert enricher.tags(["Heart failure"], _items(["Heart failure"])) == [[]]
    trial = Item(item_id="doi:10.5555/t", source_id="j", title="A randomised controlled trial of apixaban")
    assert enricher.evidence_type(trial) == EvidenceType.trial
