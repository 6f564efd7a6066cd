"""The Engine on Qdrant Edge: Qdrant's engine in process, a shard on disk (the default backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qdrant_edge import (
    CountRequest, Distance, EdgeConfig, EdgeShard, EdgeSparseVectorParams, EdgeVectorParams, FieldCondition, Filter,
    MatchAny, MatchValue, PayloadSchemaType, Point, RangeFloat, ScrollRequest, SparseVector, UpdateOperation,
)

from services.classify.index import (
    DENSE, LEXICAL, PROFILE_FIELDS, RECENT_FIELDS, IndexPoint, ProfileIndex, RecentItems, Where, read_point, vectors_of,
)

_SCHEMA = {"keyword": PayloadSchemaType.Keyword, "integer": PayloadSchemaType.Integer}


def _condition(key: str, op: str, value: Any) -> FieldCondition:
    if op == "is":
        return FieldCondition(key=key, match=MatchValue(value))
    if op == "any":
        return FieldCondition(key=key, match=MatchAny(list(value)))
    return FieldCondition(key=key, range=RangeFloat(gte=float(value)) if op == ">=" else RangeFloat(lt=float(value)))


def _read(p) -> IndexPoint:
    # the payload: a fresh dict from the engine on each access, read once, no copy
    return read_point(p.id, p.payload or {}, getattr(p, "vector", None))


class EdgeEngine:
    """One Qdrant Edge shard in a folder, created with its payload indexes on first use."""

    def __init__(self, path: Path, dim: int, indexes: dict[str, str]) -> None:
        path = Path(path)
        config = EdgeConfig(vectors={DENSE: EdgeVectorParams(size=dim, distance=Distance.Cosine)},
                            sparse_vectors={LEXICAL: EdgeSparseVectorParams()})
        if (path / "edge_config.json").exists() or any(path.glob("segments*")):
            self.shard = EdgeShard.load(str(path), config)
            return
        path.mkdir(parents=True, exist_ok=True)
        self.shard = EdgeShard.create(str(path), config)
        for key, kind in indexes.items():
            self.shard.update(UpdateOperation.create_field_index(key, _SCHEMA[kind]))

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        self.shard.update(UpdateOperation.upsert_points([Point(p.id, vectors_of(p, SparseVector), p.payload)
                                                         for p in points]))

    def delete(self, ids: Sequence[str]) -> None:
        self.shard.update(UpdateOperation.delete_points(list(ids)))

    def delete_where(self, where: Sequence[Where]) -> None:
        self.shard.update(UpdateOperation.delete_points_by_filter(Filter(must=[_condition(*w) for w in where])))

    def retrieve(self, ids: Sequence[str]) -> list[IndexPoint]:
        return [_read(r) for r in self.shard.retrieve(list(ids), with_payload=True, with_vector=False)]

    def scroll(self, where: Sequence[Where], offset: Any, limit: int, with_vectors: bool) -> tuple[list[IndexPoint], Any]:
        records, offset = self.shard.scroll(ScrollRequest(offset=offset, limit=limit, with_payload=True,
                                                          with_vector=with_vectors,
                                                          filter=Filter(must=[_condition(*w) for w in where])))
        return [_read(r) for r in records], offset

    def count(self) -> int:
        return int(self.shard.count(CountRequest(exact=True)))

    def close(self) -> None:
        self.shard.flush()
        self.shard.close()


def edge_stores(folder: Path, dim: int) -> tuple[ProfileIndex, RecentItems]:
    """The profile index and the recent items as two shards under `folder`."""
    return (ProfileIndex(EdgeEngine(Path(folder) / "profiles", dim, PROFILE_FIELDS)),
            RecentItems(EdgeEngine(Path(folder) / "items", dim, RECENT_FIELDS)))
