"""Topic tags, evidence type and urgency: the one place classify reaches the taxonomy code.

The taxonomy, tagger and evidence modules are built alongside this service; where one is
missing (an older checkout), items still flow, untagged, with an evidence type taken from
the source's content type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from contracts import ContentType, EvidenceType, Item, TopicTag

log = logging.getLogger(__name__)

_BY_CONTENT_TYPE = {
    ContentType.guideline: EvidenceType.guideline,
    ContentType.policy: EvidenceType.policy,
    ContentType.report: EvidenceType.report,
    ContentType.news: EvidenceType.news,
    ContentType.safety_alert: EvidenceType.safety_alert,
    ContentType.journal_article: EvidenceType.article,
}


class Enricher:
    """Tags items and infers their evidence type and urgency, batch by batch."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], max_tags: int = 5) -> None:
        self.max_tags = max_tags
        self._tagger = None
        self._urgent_topics: frozenset[str] | None = None
        try:
            from services.classify.tagger import Tagger
            from services.classify.taxonomy import load_taxonomy

            taxonomy = load_taxonomy()
            self._tagger = Tagger(taxonomy, embed)
            self._urgent_topics = taxonomy.urgent_ids()
        except ImportError as exc:
            log.warning("topic tagging unavailable", extra={"error": repr(exc)})
        try:
            from services.classify import evidence

            self._evidence = evidence
        except ImportError as exc:
            log.warning("evidence inference unavailable", extra={"error": repr(exc)})
            self._evidence = None

    def tags(self, texts: list[str], vectors: np.ndarray) -> list[list[TopicTag]]:
        if self._tagger is None or self.max_tags == 0:
            return [[] for _ in texts]
        return self._tagger.tag(texts, vectors, top_k=self.max_tags)

    def evidence_type(self, item: Item) -> EvidenceType:
        if self._evidence is not None:
            return self._evidence.infer_evidence_type(item.title, item.summary, item.content_type)
        return _BY_CONTENT_TYPE.get(item.content_type, EvidenceType.other)

    def urgent(self, item: Item, evidence_type: EvidenceType, tags: Sequence[TopicTag]) -> bool:
        if self._evidence is not None:
            return bool(self._evidence.is_urgent(item, evidence_type, list(tags), self._urgent_topics))
        return evidence_type == EvidenceType.safety_alert
