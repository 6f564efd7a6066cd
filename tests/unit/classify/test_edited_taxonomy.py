"""A librarian-edited taxonomy file decides an item's tags and, with its evidence type, its urgency."""

from __future__ import annotations

import numpy as np

from contracts import ContentType, EvidenceType, Item
from services.classify.evidence import infer_evidence_type, is_urgent
from services.classify.tagger import Tagger
from services.classify.taxonomy import load_taxonomy

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
    tagger = Tagger(load_taxonomy(path), _embed, threshold=0.2, top_k=3)
    texts = ["Preventing pressure ulcers with wound care bundles on older people's wards",
             "Atrial fibrillation and anticoagulation"]
    tags = tagger.tag(texts, _items(texts))
    assert [t.topic_id for t in tags[0]] == ["tissue_viability"]
    assert tags[1] == []

    recall = Item(item_id="url:x", source_id="alerts", title="Product recall: dressing packs withdrawn from use",
                  content_type=ContentType.news)
    recall_tags = tagger.tag([recall.title], _items([recall.title]))
    assert [t.topic_id for t in recall_tags[0]] == ["product_recalls"] and tagger.urgent_topics == {"product_recalls"}
    kind = infer_evidence_type(recall.title, recall.summary, recall.content_type)
    strong = [t.model_copy(update={"score": 0.9}) for t in recall_tags[0]]
    assert is_urgent(recall, kind, strong, tagger.urgent_topics)
    assert not is_urgent(recall, kind, strong, frozenset())  # urgent only through the file's urgent topic
    assert [len(t) for t in tagger.tag(texts, _items(texts), top_k=0)] == [0, 0]
