"""The profile index on a Qdrant server through qdrant-client (or its local mode, for tests)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
from qdrant_client import QdrantClient, models

from services.classify.index import ANY, DENSE, HIT_FIELDS, LEXICAL, Hit, IndexPoint, ItemFilter, split_results
from services.classify.lexical import Sparse
from services.classify.recent import REFERENCE_FIELDS, RecentItem, recent_id

log = logging.getLogger(__name__)

_KEYWORDS = ("subscriber_id", "kind", "content_types", "sources", "topics", "awaiting")


def _filter(f: ItemFilter | None, extra: Sequence[models.FieldCondition] = ()) -> models.Filter:
    must = [models.FieldCondition(key="active", match=models.MatchValue(value=1)), *extra]
    if f is not None:
        must.append(models.FieldCondition(key="content_types", match=models.MatchAny(any=[ANY, f.evidence_type])))
        must.append(models.FieldCondition(key="sources", match=models.MatchAny(any=[ANY, f.source_id])))
    return models.Filter(must=must)


def _sparse(v: Sparse) -> models.SparseVector:
    items = sorted(v.items())
    return models.SparseVector(indices=[i for i, _ in items], values=[float(w) for _, w in items])


def _hit(p) -> Hit:
    return Hit(str(p.id), float(getattr(p, "score", 0.0) or 0.0), dict(p.payload or {}))


class ClientProfileIndex:
    """ProfileIndex over one Qdrant collection."""

    def __init__(self, client: QdrantClient, collection: str, dim: int) -> None:
        self._client = client
        self.collection = collection
        if not client.collection_exists(collection):
            client.create_collection(
                collection,
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={LEXICAL: models.SparseVectorParams()},
            )
            with warnings.catch_warnings():  # local mode ignores payload indexes, and says so
                warnings.simplefilter("ignore", UserWarning)
                for key in _KEYWORDS:
                    client.create_payload_index(collection, key, models.PayloadSchemaType.KEYWORD)
                client.create_payload_index(collection, "active", models.PayloadSchemaType.INTEGER)

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        out = []
        for p in points:
            vector: dict = {}
            if p.dense is not None:
                vector[DENSE] = [float(x) for x in p.dense]
            if p.sparse is not None:
                vector[LEXICAL] = _sparse(p.sparse)
            out.append(models.PointStruct(id=p.id, vector=vector, payload=p.payload))
        self._client.upsert(self.collection, out, wait=True)

    def delete_subscriber(self, subscriber_id: str) -> None:
        flt = models.Filter(
            must=[models.FieldCondition(key="subscriber_id", match=models.MatchValue(value=subscriber_id))]
        )
        self._client.delete(self.collection, models.FilterSelector(filter=flt), wait=True)

    def retrieve(self, ids: Sequence[str]) -> list[Hit]:
        return [_hit(r) for r in self._client.retrieve(self.collection, list(ids), with_payload=True)]

    def search(self, dense: np.ndarray, sparse: Sequence[Sparse], filters: Sequence[ItemFilter],
               limit: int) -> tuple[list[list[Hit]], list[list[Hit]]]:
        """Nearest points by meaning and by words, for each item, in one batch request."""
        reqs = [
            models.QueryRequest(query=[float(x) for x in v], using=DENSE, filter=_filter(f), limit=limit,
                                with_payload=HIT_FIELDS)
            for v, f in zip(dense, filters)
        ]
        where = [n for n, v in enumerate(sparse) if v]
        reqs += [
            models.QueryRequest(query=_sparse(sparse[n]), using=LEXICAL, filter=_filter(filters[n]), limit=limit,
                                with_payload=HIT_FIELDS)
            for n in where
        ]
        results = self._batch(reqs)
        return split_results(results, len(dense), where, len(sparse))

    def by_topics(self, topic_ids: Sequence[str], flt: ItemFilter, limit: int) -> list[Hit]:
        if not topic_ids:
            return []
        extra = [
            models.FieldCondition(key="kind", match=models.MatchValue(value="profile")),
            models.FieldCondition(key="topics", match=models.MatchAny(any=list(topic_ids))),
        ]
        records, _ = self._client.scroll(self.collection, scroll_filter=_filter(flt, extra), limit=limit)
        return [_hit(r) for r in records]

    def awaiting(self, keys: Sequence[str], limit: int = 1000) -> list[Hit]:
        if not keys:
            return []
        flt = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="awaiting")),
                                  models.FieldCondition(key="awaiting", match=models.MatchAny(any=list(keys)))])
        records, _ = self._client.scroll(self.collection, scroll_filter=flt, limit=limit)
        return [_hit(r) for r in records]

    def _batch(self, reqs: list[models.QueryRequest]) -> list[list[Hit]]:
        if not reqs:
            return []
        return [[_hit(p) for p in r.points] for r in self._client.query_batch_points(self.collection, reqs)]

    def count(self) -> int:
        return int(self._client.count(self.collection, exact=True).count)

    def close(self) -> None:
        self._client.close()


class ClientRecentItems:
    """RecentItems in a second Qdrant collection."""

    def __init__(self, client: QdrantClient, collection: str, dim: int) -> None:
        self._client = client
        self.collection = collection
        if not client.collection_exists(collection):
            client.create_collection(
                collection,
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={LEXICAL: models.SparseVectorParams()},
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                client.create_payload_index(collection, "seen_at", models.PayloadSchemaType.INTEGER)
                for key in REFERENCE_FIELDS:
                    client.create_payload_index(collection, key, models.PayloadSchemaType.KEYWORD)

    def add(self, items: Sequence[RecentItem]) -> None:
        if items:
            self._client.upsert(self.collection, [
                models.PointStruct(
                    id=recent_id(it.item_id),
                    vector={DENSE: [float(x) for x in it.dense], LEXICAL: _sparse(it.sparse)},
                    payload={**it.payload, "item_id": it.item_id, "seen_at": it.seen_at},
                )
                for it in items
            ], wait=True)

    def since(self, seen_at: int, limit: int = 100_000) -> list[RecentItem]:
        return self._scroll(models.Filter(must=[models.FieldCondition(key="seen_at", range=models.Range(gte=seen_at))]),
                            limit)

    def find(self, field: str, values: Sequence[str], limit: int = 100) -> list[RecentItem]:
        if field not in REFERENCE_FIELDS or not values:
            return []
        return self._scroll(models.Filter(must=[models.FieldCondition(key=field, match=models.MatchAny(any=list(values)))]),
                            limit)

    def _scroll(self, flt: models.Filter, limit: int) -> list[RecentItem]:
        out: list[RecentItem] = []
        offset = None
        while len(out) < limit:
            records, offset = self._client.scroll(
                self.collection, scroll_filter=flt, limit=min(1000, limit - len(out)), offset=offset,
                with_payload=True, with_vectors=True)
            for r in records:
                vec, payload = r.vector or {}, dict(r.payload or {})
                sp = vec.get(LEXICAL)
                sparse = dict(zip(sp.indices, sp.values)) if sp is not None else {}
                out.append(RecentItem(payload["item_id"], int(payload["seen_at"]), vec.get(DENSE, []), sparse, payload))
            if offset is None or not records:
                break
        return out

    def prune(self, before: int) -> None:
        flt = models.Filter(must=[models.FieldCondition(key="seen_at", range=models.Range(lt=before))])
        self._client.delete(self.collection, models.FilterSelector(filter=flt), wait=True)

    def close(self) -> None:
        """The client is shared with the profile index, which closes it."""
