"""Topic tags, evidence type and urgency: the one place classify reaches the taxonomy code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from contracts import EvidenceType, Item, TopicTag
from services.classify import evidence
from services.classify.tagger import Tagger
from services.classify.taxonomy import load_taxonomy


class Enricher:
    """Tags items against the taxonomy and infers their evidence type and urgency, batch by batch."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], max_tags: int = 5, taxonomy_path: Path | None = None,
                 tag_threshold: float = 0.4) -> None:
        taxonomy = load_taxonomy(taxonomy_path)
        self.max_tags = max_tags
        self._urgent_topics = taxonomy.urgent_ids()
        # The tagger embeds every topic once; with no tags wanted there is nothing to embed.
        self._tagger = Tagger(taxonomy, embed, threshold=tag_threshold) if max_tags else None

    def tags(self, texts: list[str], vectors: np.ndarray) -> list[list[TopicTag]]:
        if self._tagger is None:
            return [[] for _ in texts]
        return self._tagger.tag(texts, vectors, top_k=self.max_tags)

    def evidence_type(self, item: Item) -> EvidenceType:
        return evidence.infer_evidence_type(item.title, item.summary, item.content_type)

    def urgent(self, item: Item, evidence_type: EvidenceType, tags: Sequence[TopicTag]) -> bool:
        return evidence.is_urgent(item, evidence_type, list(tags), self._urgent_topics)
