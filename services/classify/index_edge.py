"""The profile index on Qdrant Edge: Qdrant's engine in process, on disk (the default backend)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    MatchAny,
    MatchValue,
    PayloadSchemaType,
    PayloadSelector,
    Point,
    Query,
    QueryBatchRequest,
    QueryRequest,
    RangeFloat,
    ScrollRequest,
    SparseVector,
    UpdateOperation,
)

from services.classify.index import ANY, DENSE, HIT_FIELDS, LEXICAL, Hit, IndexPoint, ItemFilter, split_results
from services.classify.lexical import Sparse
from services.classify.recent import REFERENCE_FIELDS, RecentItem, recent_id

log = logging.getLogger(__name__)

_KEYWORDS = ("subscriber_id", "kind", "content_types", "sources", "topics", "awaiting")


def _filter(f: ItemFilter | None, extra: Sequence[FieldCondition] = ()) -> Filter:
    must = [FieldCondition(key="active", match=MatchValue(1)), *extra]
    if f is not None:
        must.append(FieldCondition(key="content_types", match=MatchAny([ANY, f.evidence_type])))
        must.append(FieldCondition(key="sources", match=MatchAny([ANY, f.source_id])))
    return Filter(must=must)


def _sparse(v: Sparse) -> SparseVector:
    items = sorted(v.items())
    return SparseVector(indices=[i for i, _ in items], values=[float(w) for _, w in items])


def _hit(p) -> Hit:
    payload = p.payload  # a fresh dict from the engine on each access: read once, no copy
    return Hit(str(p.id), float(getattr(p, "score", 0.0) or 0.0), payload if payload is not None else {})


class EdgeProfileIndex:
    """ProfileIndex over one Qdrant Edge shard in a folder (created on first use)."""

    def __init__(self, path: Path, dim: int) -> None:
        path = Path(path)
        config = EdgeConfig(
            vectors={DENSE: EdgeVectorParams(size=dim, distance=Distance.Cosine)},
            sparse_vectors={LEXICAL: EdgeSparseVectorParams()},
        )
        if (path / "edge_config.json").exists() or any(path.glob("segments*")):
            self._shard = EdgeShard.load(str(path), config)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._shard = EdgeShard.create(str(path), config)
            for key in _KEYWORDS:
                self._shard.update(UpdateOperation.create_field_index(key, PayloadSchemaType.Keyword))
            self._shard.update(UpdateOperation.create_field_index("active", PayloadSchemaType.Integer))
        self.path = path

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        out = []
        for p in points:
            vector: dict = {}
            if p.dense is not None:
                vector[DENSE] = list(p.dense)
            if p.sparse is not None:
                vector[LEXICAL] = _sparse(p.sparse)
            out.append(Point(p.id, vector, p.payload))
        self._shard.update(UpdateOperation.upsert_points(out))

    def delete_subscriber(self, subscriber_id: str) -> None:
        flt = Filter(must=[FieldCondition(key="subscriber_id", match=MatchValue(subscriber_id))])
        self._shard.update(UpdateOperation.delete_points_by_filter(flt))

    def retrieve(self, ids: Sequence[str]) -> list[Hit]:
        return [_hit(r) for r in self._shard.retrieve(list(ids), with_payload=True, with_vector=False)]

    def search(self, dense: np.ndarray, sparse: Sequence[Sparse], filters: Sequence[ItemFilter],
               limit: int) -> tuple[list[list[Hit]], list[list[Hit]]]:
        """Nearest points by meaning and by words, for each item, planned as one batch."""
        reqs = [
            QueryRequest(limit=limit, query=Query.Nearest([float(x) for x in v], using=DENSE), filter=_filter(f),
                         with_payload=PayloadSelector.Include(HIT_FIELDS))
            for v, f in zip(dense, filters)
        ]
        where = [n for n, v in enumerate(sparse) if v]
        reqs += [
            QueryRequest(limit=limit, query=Query.Nearest(_sparse(sparse[n]), using=LEXICAL), filter=_filter(filters[n]),
                         with_payload=PayloadSelector.Include(HIT_FIELDS))
            for n in where
        ]
        results = self._batch(reqs)
        return split_results(results, len(dense), where, len(sparse))

    def by_topics(self, topic_ids: Sequence[str], flt: ItemFilter, limit: int) -> list[Hit]:
        if not topic_ids:
            return []
        extra = [
            FieldCondition(key="kind", match=MatchValue("profile")),
            FieldCondition(key="topics", match=MatchAny(list(topic_ids))),
        ]
        records, _ = self._shard.scroll(ScrollRequest(limit=limit, filter=_filter(flt, extra), with_payload=True))
        return [_hit(r) for r in records]

    def awaiting(self, keys: Sequence[str], limit: int = 1000) -> list[Hit]:
        if not keys:
            return []
        flt = Filter(must=[FieldCondition(key="kind", match=MatchValue("awaiting")),
                           FieldCondition(key="awaiting", match=MatchAny(list(keys)))])
        records, _ = self._shard.scroll(ScrollRequest(limit=limit, filter=flt, with_payload=True))
        return [_hit(r) for r in records]

    def _batch(self, reqs: list[QueryRequest]) -> list[list[Hit]]:
        if not reqs:
            return []
        results = self._shard.query_batch(QueryBatchRequest(reqs))
        return [[_hit(p) for p in points] for points in results]

    def count(self) -> int:
        return int(self._shard.count(CountRequest(exact=True)))

    def optimize(self) -> None:
        self._shard.optimize()

    def close(self) -> None:
        self._shard.flush()
        self._shard.close()


class EdgeRecentItems:
    """RecentItems in a second Qdrant Edge shard."""

    def __init__(self, path: Path, dim: int) -> None:
        path = Path(path)
        config = EdgeConfig(
            vectors={DENSE: EdgeVectorParams(size=dim, distance=Distance.Cosine)},
            sparse_vectors={LEXICAL: EdgeSparseVectorParams()},
        )
        if (path / "edge_config.json").exists():
            self._shard = EdgeShard.load(str(path), config)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._shard = EdgeShard.create(str(path), config)
            self._shard.update(UpdateOperation.create_field_index("seen_at", PayloadSchemaType.Integer))
            for key in REFERENCE_FIELDS:
                self._shard.update(UpdateOperation.create_field_index(key, PayloadSchemaType.Keyword))

    def add(self, items: Sequence[RecentItem]) -> None:
        if items:
            self._shard.update(UpdateOperation.upsert_points([
                Point(recent_id(it.item_id), {DENSE: [float(x) for x in it.dense], LEXICAL: _sparse(it.sparse)},
                      {**it.payload, "item_id": it.item_id, "seen_at": it.seen_at})
                for it in items
            ]))

    def since(self, seen_at: int, limit: int = 100_000) -> list[RecentItem]:
        return self._scroll(Filter(must=[FieldCondition(key="seen_at", range=RangeFloat(gte=float(seen_at)))]), limit)

    def find(self, field: str, values: Sequence[str], limit: int = 100) -> list[RecentItem]:
        if field not in REFERENCE_FIELDS or not values:
            return []
        return self._scroll(Filter(must=[FieldCondition(key=field, match=MatchAny(list(values)))]), limit)

    def _scroll(self, flt: Filter, limit: int) -> list[RecentItem]:
        out: list[RecentItem] = []
        offset = None
        while len(out) < limit:
            records, offset = self._shard.scroll(ScrollRequest(
                offset=offset, limit=min(1000, limit - len(out)), filter=flt, with_payload=True, with_vector=True))
            for r in records:
                vec, payload = r.vector or {}, dict(r.payload or {})
                sp = vec.get(LEXICAL)
                sparse = dict(zip(sp.indices, sp.values)) if sp is not None else {}
                out.append(RecentItem(payload["item_id"], int(payload["seen_at"]), vec.get(DENSE, []), sparse, payload))
            if offset is None or not records:
                break
        return out

    def prune(self, before: int) -> None:
        flt = Filter(must=[FieldCondition(key="seen_at", range=RangeFloat(lt=float(before)))])
        self._shard.update(UpdateOperation.delete_points_by_filter(flt))

    def close(self) -> None:
        self._shard.flush()
        self._shard.close()
