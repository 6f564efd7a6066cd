"""The profile index on Qdrant Edge: Qdrant's engine in process, on disk (the default backend)."""

from __future__ import annotations

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
from services.classify.recent import REFERENCE_FIELDS, RecentItem, record_item, recent_id, take

_KEYWORDS = ("subscriber_id", "kind", "awaiting")


def _sparse(v: Sparse) -> SparseVector:
    items = sorted(v.items())
    return SparseVector(indices=[i for i, _ in items], values=[float(w) for _, w in items])


def _hit(p) -> Hit:
    payload = p.payload  # a fresh dict from the engine on each access: read once, no copy
    vector = getattr(p, "vector", None) or {}
    return Hit(str(p.id), float(getattr(p, "score", 0.0) or 0.0), payload if payload is not None else {},
               vector.get(DENSE) if isinstance(vector, dict) else None)


def _pages(shard: EdgeShard, flt: Filter, with_vectors: bool, size: int = PAGE) -> Iterator[list]:
    """The points a filter selects, a page of records at a time."""
    offset = None
    while True:
        records, offset = shard.scroll(ScrollRequest(offset=offset, limit=size, filter=flt, with_payload=True,
                                                     with_vector=with_vectors))
        if records:
            yield records
        if offset is None or not records:
            return


def _open(path: Path, dim: int, indexes: dict[str, PayloadSchemaType]) -> EdgeShard:
    """The shard in a folder, created (with these payload indexes) on first use."""
    path = Path(path)
    config = EdgeConfig(vectors={DENSE: EdgeVectorParams(size=dim, distance=Distance.Cosine)},
                        sparse_vectors={LEXICAL: EdgeSparseVectorParams()})
    if (path / "edge_config.json").exists() or any(path.glob("segments*")):
        return EdgeShard.load(str(path), config)
    path.mkdir(parents=True, exist_ok=True)
    shard = EdgeShard.create(str(path), config)
    for key, kind in indexes.items():
        shard.update(UpdateOperation.create_field_index(key, kind))
    return shard


class EdgeProfileIndex:
    """ProfileIndex over one Qdrant Edge shard in a folder (created on first use)."""

    def __init__(self, path: Path, dim: int) -> None:
        self._shard = _open(path, dim, dict.fromkeys(_KEYWORDS, PayloadSchemaType.Keyword))

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
        flt = Filter(must=[FieldCondition(key="kind", match=MatchValue(kind))])
        return ([_hit(r) for r in page] for page in _pages(self._shard, flt, with_vectors))

    def awaiting(self, keys: Sequence[str]) -> list[Hit]:
        if not keys:
            return []
        flt = Filter(must=[FieldCondition(key="kind", match=MatchValue("awaiting")),
                           FieldCondition(key="awaiting", match=MatchAny(list(keys)))])
        return [_hit(r) for page in _pages(self._shard, flt, False) for r in page]

    def count(self) -> int:
        return int(self._shard.count(CountRequest(exact=True)))

    def close(self) -> None:
        self._shard.flush()
        self._shard.close()


class EdgeRecentItems:
    """RecentItems in a second Qdrant Edge shard."""

    def __init__(self, path: Path, dim: int) -> None:
        self._shard = _open(path, dim, {"seen_at": PayloadSchemaType.Integer,
                                        **dict.fromkeys(REFERENCE_FIELDS, PayloadSchemaType.Keyword)})

    def add(self, items: Sequence[RecentItem]) -> None:
        if items:
            self._shard.update(UpdateOperation.upsert_points([
                Point(recent_id(it.item_id), {DENSE: [float(x) for x in it.dense], LEXICAL: _sparse(it.sparse)},
                      {**it.payload, "item_id": it.item_id, "seen_at": it.seen_at})
                for it in items
            ]))

    def since(self, seen_at: int, limit: int | None = None) -> list[RecentItem]:
        return take(self._items(_since(seen_at), limit), limit)

    def find(self, field: str, values: Sequence[str], limit: int | None = None) -> list[RecentItem]:
        if field not in REFERENCE_FIELDS or not values:
            return []
        return take(self._items(Filter(must=[FieldCondition(key=field, match=MatchAny(list(values)))]), limit), limit)

    def pages_since(self, seen_at: int) -> Iterator[list[RecentItem]]:
        return self._items(_since(seen_at), None)

    def _items(self, flt: Filter, limit: int | None) -> Iterator[list[RecentItem]]:
        size = PAGE if limit is None else min(PAGE, limit)
        return ([record_item(r) for r in page] for page in _pages(self._shard, flt, True, size))

    def prune(self, before: int) -> None:
        flt = Filter(must=[FieldCondition(key="seen_at", range=RangeFloat(lt=float(before)))])
        self._shard.update(UpdateOperation.delete_points_by_filter(flt))

    def close(self) -> None:
        self._shard.flush()
        self._shard.close()


def _since(seen_at: int) -> Filter:
    return Filter(must=[FieldCondition(key="seen_at", range=RangeFloat(gte=float(seen_at)))])
