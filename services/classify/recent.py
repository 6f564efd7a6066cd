"""Recent items kept for preview and calibration: the port and its record (no I/O here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from services.classify.index import DENSE, LEXICAL
from services.classify.lexical import Sparse

_NS = uuid.UUID("5a3f0e8e-7f0e-4a43-9d0e-2b8d7c1a9e42")


#: Payload fields an example paper's reference is looked up by (each has a keyword index).
REFERENCE_FIELDS = ("item_id", "item.doi", "item.pmid", "item.url")


def recent_id(item_id: str) -> str:
    return str(uuid.uuid5(_NS, item_id))


@dataclass(frozen=True)
class RecentItem:
    """An item as classified: its vectors and what preview shows (payload: item, tags, evidence)."""

    item_id: str
    seen_at: int  # unix seconds
    dense: Sequence[float]
    sparse: Sparse
    payload: dict[str, Any]


class RecentItems(Protocol):
    def add(self, items: Sequence[RecentItem]) -> None: ...

    def since(self, seen_at: int, limit: int | None = None) -> list[RecentItem]:
        """Items seen at or after `seen_at`: all of them, or a sample of `limit`."""
        ...

    def pages_since(self, seen_at: int) -> Iterator[list[RecentItem]]:
        """Every item seen at or after `seen_at`, a page at a time."""
        ...

    def find(self, field: str, values: Sequence[str], limit: int | None = None) -> list[RecentItem]:
        """Every item whose payload `field` (one of REFERENCE_FIELDS) is one of `values`."""
        ...

    def prune(self, before: int) -> None: ...

    def close(self) -> None: ...


def record_item(record: Any) -> RecentItem:
    """A recent item from a point either Qdrant adapter returns (vectors by name, payload)."""
    vectors, payload = record.vector or {}, dict(record.payload or {})
    sparse = vectors.get(LEXICAL)
    return RecentItem(payload["item_id"], int(payload["seen_at"]), vectors.get(DENSE, []),
                      dict(zip(sparse.indices, sparse.values)) if sparse is not None else {}, payload)


def take(pages: Iterator[list[RecentItem]], limit: int | None) -> list[RecentItem]:
    """The items of these pages, every one of them unless `limit` asks for a sample."""
    out: list[RecentItem] = []
    for page in pages:
        out += page
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out


def as_matrix(items: Sequence[RecentItem], dim: int) -> np.ndarray:
    if not items:
        return np.zeros((0, dim), dtype=np.float32)
    return np.asarray([it.dense for it in items], dtype=np.float32)
