"""The Engine on a Qdrant server through qdrant-client (or its local mode, for tests)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient, models

from services.classify.index import (
    DENSE, LEXICAL, PROFILE_FIELDS, RECENT_FIELDS, IndexPoint, ProfileIndex, RecentItems, Where, read_point, vectors_of,
)

_SCHEMA = {"keyword": models.PayloadSchemaType.KEYWORD, "integer": models.PayloadSchemaType.INTEGER}


def _filter(where: Sequence[Where]) -> models.Filter:
    def condition(key: str, op: str, value: Any) -> models.FieldCondition:
        if op == "is":
            return models.FieldCondition(key=key, match=models.MatchValue(value=value))
        if op == "any":
            return models.FieldCondition(key=key, match=models.MatchAny(any=list(value)))
        return models.FieldCondition(key=key, range=models.Range(gte=value) if op == ">=" else models.Range(lt=value))
    return models.Filter(must=[condition(*w) for w in where])


def _read(p) -> IndexPoint:
    return read_point(p.id, dict(p.payload or {}), getattr(p, "vector", None))


class ClientEngine:
    """One collection on a Qdrant server, created with its payload indexes unless it exists; `owner`:
    this engine closes the client (several collections share one)."""

    def __init__(self, client: QdrantClient, collection: str, dim: int, indexes: dict[str, str],
                 owner: bool = True) -> None:
        self.client, self.collection, self.owner = client, collection, owner
        if client.collection_exists(collection):
            return
        client.create_collection(collection,
                                 vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                                 sparse_vectors_config={LEXICAL: models.SparseVectorParams()})
        with warnings.catch_warnings():  # local mode ignores payload indexes, and says so
            warnings.simplefilter("ignore", UserWarning)
            for key, kind in indexes.items():
                client.create_payload_index(collection, key, _SCHEMA[kind])

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        out = [models.PointStruct(id=p.id, vector=vectors_of(p, models.SparseVector), payload=p.payload) for p in points]
        self.client.upsert(self.collection, out, wait=True)

    def delete(self, ids: Sequence[str]) -> None:
        self.client.delete(self.collection, models.PointIdsList(points=list(ids)), wait=True)

    def delete_where(self, where: Sequence[Where]) -> None:
        self.client.delete(self.collection, models.FilterSelector(filter=_filter(where)), wait=True)

    def retrieve(self, ids: Sequence[str]) -> list[IndexPoint]:
        return [_read(r) for r in self.client.retrieve(self.collection, list(ids), with_payload=True)]

    def scroll(self, where: Sequence[Where], offset: Any, limit: int, with_vectors: bool) -> tuple[list[IndexPoint], Any]:
        records, offset = self.client.scroll(self.collection, scroll_filter=_filter(where), limit=limit, offset=offset,
                                             with_payload=True, with_vectors=with_vectors)
        return [_read(r) for r in records], offset

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        if self.owner:
            self.client.close()


def client_stores(client: QdrantClient, profiles: str, items: str, dim: int) -> tuple[ProfileIndex, RecentItems]:
    """The profile index and the recent items as two collections on one client."""
    return (ProfileIndex(ClientEngine(client, profiles, dim, PROFILE_FIELDS)),
            RecentItems(ClientEngine(client, items, dim, RECENT_FIELDS, owner=False)))
