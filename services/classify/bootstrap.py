"""The composition root: builds a Classifier from settings (model, index backend, data folder)."""

from __future__ import annotations

import logging

from services.classify.classifier import Classifier
from services.classify.embedder import Embedder
from services.classify.tagger import Tagger
from services.classify.taxonomy import load_taxonomy
from services.classify.lexical import TermStats
from services.classify.settings import ClassifySettings
from services.common.kafka import partition_of

log = logging.getLogger(__name__)

PROFILES_COLLECTION = "horizon_profiles"
ITEMS_COLLECTION = "horizon_recent_items"


def build_classifier(settings: ClassifySettings | None = None, embedder: Embedder | None = None) -> Classifier:
    """Load the model once and open the index: Qdrant Edge under data_dir by default,
    a Qdrant server (qdrant_url) or qdrant-client's local mode (backend client, no URL) or
    qdrant-client in memory (backend memory, for tests and demos)."""
    settings = settings or ClassifySettings()
    embedder = embedder or Embedder(settings.model, settings.max_seq_length, settings.batch_size, settings.device)
    data_dir = settings.data_dir
    if settings.index_backend == "edge":
        from services.classify.index_edge import edge_stores

        index, recent = edge_stores(data_dir, embedder.dim)
    else:
        from qdrant_client import QdrantClient

        from services.classify.index_client import client_stores

        if settings.index_backend == "memory":
            client = QdrantClient(":memory:")
        elif settings.qdrant_url:
            key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
            client = QdrantClient(url=settings.qdrant_url, api_key=key)
        else:
            data_dir.mkdir(parents=True, exist_ok=True)
            client = QdrantClient(path=str(data_dir / "qdrant"))
        index, recent = client_stores(client, PROFILES_COLLECTION, ITEMS_COLLECTION, embedder.dim)
    stats_path = data_dir / "term_stats.json" if settings.index_backend != "memory" else None
    stats = TermStats.load(stats_path) if stats_path else TermStats()
    log.info("classifier ready", extra={"backend": settings.index_backend, "model": embedder.key})
    tagger = Tagger(load_taxonomy(settings.taxonomy_path), embedder.encode, threshold=settings.tag_threshold,
                    top_k=settings.max_tags) if settings.max_tags else None  # no tags wanted: no topics to embed
    return Classifier(embedder.encode, embedder.key, embedder.dim, index, recent, tagger, stats,
                      threshold=settings.threshold, recent_days=settings.recent_days, stats_path=stats_path,
                      owns=owner(settings))


def owner(settings: ClassifySettings):
    """Which subscribers this process matches: all of them, or those of its shard's partitions."""
    if settings.shards == 1:
        return None
    owned = set(settings.owned_partitions())
    return lambda subscriber_id: partition_of(subscriber_id, settings.profile_partitions) in owned
