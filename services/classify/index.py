"""Where classify keeps its state in Qdrant: the profile index and the recent items.

The profile index is the matching table's durable copy (parts, models, subscribers and "awaiting"
points), read back in pages at start; matching itself scores every model in memory, so no search
can leave a subscriber out. The recent items serve preview, calibration and example lookups.
Both are written once over an `Engine`, the little that differs between Qdrant Edge in process
(index_edge.py, the default) and a Qdrant server through qdrant-client (index_client.py, whose
local mode the tests use).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from services.classify.lexical import Sparse

DENSE = "dense"
LEXICAL = "lexical"
#: Points read per page when a collection is scrolled.
PAGE = 1000
#: A condition on a payload field: (field, "is" | "any" | ">=" | "<", value).
Where = tuple[str, str, Any]
#: Payload indexes (field -> "keyword" or "integer") of each collection.
PROFILE_FIELDS = dict.fromkeys(("subscriber_id", "kind", "awaiting"), "keyword")
#: Payload fields an example paper's reference is looked up by (each has a keyword index).
REFERENCE_FIELDS = ("item_id", "item.doi", "item.pmid", "item.url")
RECENT_FIELDS = {"seen_at": "integer", **dict.fromkeys(REFERENCE_FIELDS, "keyword")}

_NS = uuid.UUID("5a3f0e8e-7f0e-4a43-9d0e-2b8d7c1a9e42")


@dataclass(frozen=True)
class IndexPoint:
    """A point as written, and as read back (its vectors only where asked for)."""

    id: str
    payload: dict[str, Any]
    dense: Sequence[float] | None = None
    sparse: Sparse | None = None


class Engine(Protocol):
    """One Qdrant collection (or Edge shard), created with its payload indexes on first use."""

    def upsert(self, points: Sequence[IndexPoint]) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
    def delete_where(self, where: Sequence[Where]) -> None: ...
    def retrieve(self, ids: Sequence[str]) -> list[IndexPoint]: ...

    def scroll(self, where: Sequence[Where], offset: Any, limit: int, with_vectors: bool) -> tuple[list[IndexPoint], Any]:
        """A page of the points matching every condition, and the offset of the next (None: the end)."""
        ...

    def count(self) -> int: ...
    def close(self) -> None: ...


def vectors_of(p: IndexPoint, sparse_vector: Callable[..., Any]) -> dict[str, Any]:
    """A point's named vectors as both engines take them (`sparse_vector`: the engine's own
    SparseVector, given its indices in order and their values)."""
    out: dict[str, Any] = {}
    if p.dense is not None:
        out[DENSE] = np.asarray(p.dense, dtype=float).tolist()
    if p.sparse is not None:
        items = sorted(p.sparse.items())
        out[LEXICAL] = sparse_vector(indices=[i for i, _ in items], values=[float(w) for _, w in items])
    return out


def read_point(point_id: Any, payload: dict[str, Any], vector: dict[str, Any] | None) -> IndexPoint:
    """A point as either engine returns it, its vectors (where asked for) by name."""
    sparse = (vector or {}).get(LEXICAL)
    return IndexPoint(str(point_id), payload, (vector or {}).get(DENSE),
                      dict(zip(sparse.indices, sparse.values)) if sparse is not None else None)


def pages(engine: Engine, where: Sequence[Where], with_vectors: bool = False, size: int = PAGE) -> Iterator[list[IndexPoint]]:
    """Every point matching `where`, a page at a time."""
    offset = None
    while True:
        hits, offset = engine.scroll(where, offset, size, with_vectors)
        if hits:
            yield hits
        if offset is None or not hits:
            return


class ProfileIndex:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        for start in range(0, len(points), PAGE):
            self.engine.upsert(points[start:start + PAGE])

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.engine.delete(list(ids))

    def retrieve(self, ids: Sequence[str]) -> list[IndexPoint]:
        return [h for start in range(0, len(ids), PAGE) for h in self.engine.retrieve(list(ids[start:start + PAGE]))]

    def scroll(self, kind: str, with_vectors: bool = False) -> Iterator[list[IndexPoint]]:
        """Every point of one kind, a page at a time."""
        return pages(self.engine, [("kind", "is", kind)], with_vectors)

    def awaiting(self, keys: Sequence[str]) -> list[IndexPoint]:
        """Every "awaiting" point (profiles.awaiting_point) waiting for any of these lookup keys."""
        if not keys:
            return []
        return [h for page in pages(self.engine, [("kind", "is", "awaiting"), ("awaiting", "any", list(keys))])
                for h in page]

    def count(self) -> int:
        return self.engine.count()

    def close(self) -> None:
        self.engine.close()


@dataclass(frozen=True)
class RecentItem:
    """An item as classified: its vectors and what preview shows (payload: item, tags, evidence)."""

    item_id: str
    seen_at: int  # unix seconds
    dense: Sequence[float]
    sparse: Sparse
    payload: dict[str, Any]


def _recent(hit: IndexPoint) -> RecentItem:
    return RecentItem(hit.payload["item_id"], int(hit.payload["seen_at"]), hit.dense or [], hit.sparse or {},
                      hit.payload)


class RecentItems:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, items: Sequence[RecentItem]) -> None:
        if items:
            self.engine.upsert([IndexPoint(str(uuid.uuid5(_NS, it.item_id)), {**it.payload, "item_id": it.item_id,
                                                                              "seen_at": it.seen_at}, it.dense, it.sparse)
                                for it in items])

    def since(self, seen_at: int, limit: int | None = None) -> list[RecentItem]:
        """Items seen at or after `seen_at`: all of them, or a sample of `limit` (the store's order)."""
        return self._take([("seen_at", ">=", seen_at)], limit)

    def pages_since(self, seen_at: int) -> Iterator[list[RecentItem]]:
        """Every item seen at or after `seen_at`, a page at a time."""
        return ([_recent(h) for h in page] for page in pages(self.engine, [("seen_at", ">=", seen_at)], True))

    def find(self, field: str, values: Sequence[str], limit: int | None = None) -> list[RecentItem]:
        """Every item whose payload `field` (one of REFERENCE_FIELDS) is one of `values`."""
        if field not in REFERENCE_FIELDS or not values:
            return []
        return self._take([(field, "any", list(values))], limit)

    def _take(self, where: Sequence[Where], limit: int | None) -> list[RecentItem]:
        out: list[RecentItem] = []
        for page in pages(self.engine, where, True, PAGE if limit is None else min(PAGE, limit)):
            out += [_recent(h) for h in page]
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def prune(self, before: int) -> None:
        self.engine.delete_where([("seen_at", "<", before)])

    def close(self) -> None:
        self.engine.close()


def as_matrix(items: Sequence[RecentItem], dim: int) -> np.ndarray:
    if not items:
        return np.zeros((0, dim), dtype=np.float32)
    return np.asarray([it.dense for it in items], dtype=np.float32)
