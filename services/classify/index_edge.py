"""The profile index on Qdrant Edge: Qdrant's engine in process, on disk (the default backend)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

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
    Point,
    RangeFloat,
    ScrollRequest,
    SparseVector,
    UpdateOperation,
)

from services.classify.index import DENSE, LEXICAL, PAGE, Hit, IndexPoint
from services.classify.lexical import Sparse
from services.classify.recent import REFERENCE_FIELDS, RecentItem, recent_id

log = logging.getLogger(__name__)

_KEYWORDS = ("subscriber_id", "kind", "awaiting")


def _sparse(v: Sparse) -> SparseVector:
    items = sorted(v.items())
    return SparseVector(indices=[i for i, _ in items], values=[float(w) for _, w in items])


def _hit(p) -> Hit:
    payload = p.payload  # a fresh dict from the engine on each access: read once, no copy
    vector = getattr(p, "vector", None) or {}
    return Hit(str(p.id), float(getattr(p, "score", 0.0) or 0.0), payload if payload is not None else {},
               vector.get(DENSE) if isinstance(vector, dict) else None)


def _pages(shard: EdgeShard, flt: Filter, with_vectors: bool) -> Iterator[list[Hit]]:
    offset = None
    while True:
        records, offset = shard.scroll(ScrollRequest(offset=offset, limit=PAGE, filter=flt, with_payload=True,
                                                     with_vector=with_vectors))
        if records:
            yield [_hit(r) for r in records]
        if offset is None or not records:
            return


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
        self.path = path

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        for start in range(0, len(points), PAGE):
            out = []
            for p in points[start:start + PAGE]:
                vector: dict = {}
                if p.dense is not None:
                    vector[DENSE] = list(p.dense)
                if p.sparse is not None:
                    vector[LEXICAL] = _sparse(p.sparse)
                out.append(Point(p.id, vector, p.payload))
            self._shard.update(UpdateOperation.upsert_points(out))

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._shard.update(UpdateOperation.delete_points(list(ids)))

    def retrieve(self, ids: Sequence[str]) -> list[Hit]:
        out: list[Hit] = []
        for start in range(0, len(ids), PAGE):
            out += [_hit(r) for r in self._shard.retrieve(list(ids[start:start + PAGE]), with_payload=True,
                                                          with_vector=False)]
        return out

    def scroll(self, kind: str, with_vectors: bool = False) -> Iterator[list[Hit]]:
        return _pages(self._shard, Filter(must=[FieldCondition(key="kind", match=MatchValue(kind))]), with_vectors)

    def awaiting(self, keys: Sequence[str]) -> list[Hit]:
        if not keys:
            return []
        flt = Filter(must=[FieldCondition(key="kind", match=MatchValue("awaiting")),
                           FieldCondition(key="awaiting", match=MatchAny(list(keys)))])
        return [h for page in _pages(self._shard, flt, False) for h in page]

    def count(self) -> int:
        return int(self._shard.count(CountRequest(exact=True)))

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

    def since(self, seen_at: int, limit: int | None = None) -> list[RecentItem]:
        return self._scroll(Filter(must=[FieldCondition(key="seen_at", range=RangeFloat(gte=float(seen_at)))]), limit)

    def find(self, field: str, values: Sequence[str], limit: int | None = None) -> list[RecentItem]:
        if field not in REFERENCE_FIELDS or not values:
            return []
        return self._scroll(Filter(must=[FieldCondition(key=field, match=MatchAny(list(values)))]), limit)

    def pages_since(self, seen_at: int) -> Iterator[list[RecentItem]]:
        flt = Filter(must=[FieldCondition(key="seen_at", range=RangeFloat(gte=float(seen_at)))])
        return self._pages(flt, PAGE)

    def _scroll(self, flt: Filter, limit: int | None) -> list[RecentItem]:
        """The matching items, every one of them unless `limit` asks for a sample."""
        out: list[RecentItem] = []
        for page in self._pages(flt, PAGE if limit is None else min(PAGE, limit)):
            out += page
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def _pages(self, flt: Filter, size: int) -> Iterator[list[RecentItem]]:
        offset = None
        while True:
            records, offset = self._shard.scroll(ScrollRequest(offset=offset, limit=size, filter=flt,
                                                               with_payload=True, with_vector=True))
            if records:
                yield [_recent(r) for r in records]
            if offset is None or not records:
                return

    def prune(self, before: int) -> None:
        flt = Filter(must=[FieldCondition(key="seen_at", range=RangeFloat(lt=float(before)))])
        self._shard.update(UpdateOperation.delete_points_by_filter(flt))

    def close(self) -> None:
        self._shard.flush()
        self._shard.close()


def _recent(r) -> RecentItem:
    vec, payload = r.vector or {}, dict(r.payload or {})
    sp = vec.get(LEXICAL)
    sparse = dict(zip(sp.indices, sp.values)) if sp is not None else {}
    return RecentItem(payload["item_id"], int(payload["seen_at"]), vec.get(DENSE, []), sparse, payload)
