"""The profile index on a Qdrant server through qdrant-client (or its local mode, for tests)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

from qdrant_client import QdrantClient, models

from services.classify.index import DENSE, LEXICAL, PAGE, Hit, IndexPoint
from services.classify.lexical import Sparse
from services.classify.recent import REFERENCE_FIELDS, RecentItem, record_item, recent_id, take

_KEYWORDS = ("subscriber_id", "kind", "awaiting")


def _sparse(v: Sparse) -> models.SparseVector:
    items = sorted(v.items())
    return models.SparseVector(indices=[i for i, _ in items], values=[float(w) for _, w in items])


def _hit(p) -> Hit:
    vector = getattr(p, "vector", None) or {}
    return Hit(str(p.id), float(getattr(p, "score", 0.0) or 0.0), dict(p.payload or {}),
               vector.get(DENSE) if isinstance(vector, dict) else None)


def _pages(client: QdrantClient, collection: str, flt: models.Filter, with_vectors: bool,
           size: int = PAGE) -> Iterator[list]:
    """The points a filter selects, a page of records at a time."""
    offset = None
    while True:
        records, offset = client.scroll(collection, scroll_filter=flt, limit=size, offset=offset,
                                        with_payload=True, with_vectors=with_vectors)
        if records:
            yield records
        if offset is None or not records:
            return


def _create(client: QdrantClient, collection: str, dim: int, indexes: dict[str, models.PayloadSchemaType]) -> None:
    """The collection, created (with these payload indexes) unless it exists."""
    if client.collection_exists(collection):
        return
    client.create_collection(collection,
                             vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                             sparse_vectors_config={LEXICAL: models.SparseVectorParams()})
    with warnings.catch_warnings():  # local mode ignores payload indexes, and says so
        warnings.simplefilter("ignore", UserWarning)
        for key, kind in indexes.items():
            client.create_payload_index(collection, key, kind)


class ClientProfileIndex:
    """ProfileIndex over one Qdrant collection."""

    def __init__(self, client: QdrantClient, collection: str, dim: int) -> None:
        self._client = client
        self.collection = collection
        _create(client, collection, dim, dict.fromkeys(_KEYWORDS, models.PayloadSchemaType.KEYWORD))

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        for start in range(0, len(points), PAGE):
            out = []
            for p in points[start:start + PAGE]:
                vector: dict = {}
                if p.dense is not None:
                    vector[DENSE] = [float(x) for x in p.dense]
                if p.sparse is not None:
                    vector[LEXICAL] = _sparse(p.sparse)
                out.append(models.PointStruct(id=p.id, vector=vector, payload=p.payload))
            self._client.upsert(self.collection, out, wait=True)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._client.delete(self.collection, models.PointIdsList(points=list(ids)), wait=True)

    def retrieve(self, ids: Sequence[str]) -> list[Hit]:
        out: list[Hit] = []
        for start in range(0, len(ids), PAGE):
            out += [_hit(r) for r in self._client.retrieve(self.collection, list(ids[start:start + PAGE]),
                                                           with_payload=True)]
        return out

    def scroll(self, kind: str, with_vectors: bool = False) -> Iterator[list[Hit]]:
        flt = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value=kind))])
        return ([_hit(r) for r in page] for page in _pages(self._client, self.collection, flt, with_vectors))

    def awaiting(self, keys: Sequence[str]) -> list[Hit]:
        if not keys:
            return []
        flt = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="awaiting")),
                                  models.FieldCondition(key="awaiting", match=models.MatchAny(any=list(keys)))])
        return [_hit(r) for page in _pages(self._client, self.collection, flt, False) for r in page]

    def count(self) -> int:
        return int(self._client.count(self.collection, exact=True).count)

    def close(self) -> None:
        self._client.close()


class ClientRecentItems:
    """RecentItems in a second Qdrant collection."""

    def __init__(self, client: QdrantClient, collection: str, dim: int) -> None:
        self._client = client
        self.collection = collection
        _create(client, collection, dim, {"seen_at": models.PayloadSchemaType.INTEGER,
                                          **dict.fromkeys(REFERENCE_FIELDS, models.PayloadSchemaType.KEYWORD)})

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

    def since(self, seen_at: int, limit: int | None = None) -> list[RecentItem]:
        return take(self._items(_since(seen_at), limit), limit)

    def find(self, field: str, values: Sequence[str], limit: int | None = None) -> list[RecentItem]:
        if field not in REFERENCE_FIELDS or not values:
            return []
        flt = models.Filter(must=[models.FieldCondition(key=field, match=models.MatchAny(any=list(values)))])
        return take(self._items(flt, limit), limit)

    def pages_since(self, seen_at: int) -> Iterator[list[RecentItem]]:
        return self._items(_since(seen_at), None)

    def _items(self, flt: models.Filter, limit: int | None) -> Iterator[list[RecentItem]]:
        size = PAGE if limit is None else min(PAGE, limit)
        return ([record_item(r) for r in page] for page in _pages(self._client, self.collection, flt, True, size))

    def prune(self, before: int) -> None:
        flt = models.Filter(must=[models.FieldCondition(key="seen_at", range=models.Range(lt=before))])
        self._client.delete(self.collection, models.FilterSelector(filter=flt), wait=True)

    def close(self) -> None:
        """The client is shared with the profile index, which closes it."""


def _since(seen_at: int) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="seen_at", range=models.Range(gte=seen_at))])
