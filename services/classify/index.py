"""The profile index port: what the matcher needs from Qdrant, whichever way Qdrant runs.

Two adapters implement it: index_edge.py (Qdrant Edge, in process, the default) and
index_client.py (the Qdrant server through qdrant-client, or its local mode in tests). Points
carry a dense vector ("dense"), a sparse lexical vector ("lexical"), or both, and a payload.
Flags are stored as integers: qdrant-edge-py 0.9 never matches a filter on a boolean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from services.classify.lexical import Sparse

DENSE = "dense"
LEXICAL = "lexical"
ANY = "*"  # in a filter list: the profile does not restrict this field
#: What a search hit carries: who, which kind of point, which one. The rest of a profile comes
#: from its profile point, which the matcher caches.
HIT_FIELDS = ["subscriber_id", "kind", "n"]


@dataclass(frozen=True)
class IndexPoint:
    id: str
    payload: dict[str, Any]
    dense: Sequence[float] | None = None
    sparse: Sparse | None = None


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemFilter:
    """What an item is, for the profiles' payload filters: only profiles that accept it match."""

    evidence_type: str
    source_id: str


class ProfileIndex(Protocol):
    def upsert(self, points: Sequence[IndexPoint]) -> None: ...

    def delete_subscriber(self, subscriber_id: str) -> None: ...

    def retrieve(self, ids: Sequence[str]) -> list[Hit]: ...

    def search(
        self, dense: np.ndarray, sparse: Sequence[Sparse], filters: Sequence[ItemFilter], limit: int
    ) -> tuple[list[list[Hit]], list[list[Hit]]]:
        """For each item: its nearest points by the dense vector, and by the sparse one."""
        ...

    def by_topics(self, topic_ids: Sequence[str], flt: ItemFilter, limit: int) -> list[Hit]: ...

    def awaiting(self, keys: Sequence[str], limit: int = 1000) -> list[Hit]:
        """The "awaiting" points (profiles.awaiting_point) waiting for any of these lookup keys."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def split_results(
    results: list[list[Hit]], n_dense: int, sparse_rows: list[int], n_sparse: int
) -> tuple[list[list[Hit]], list[list[Hit]]]:
    """Split one batch of query results (the dense queries, then a sparse query for each row in
    `sparse_rows`) back into per-item dense hits and per-item lexical hits (empty where an item
    had no sparse vector)."""
    lexical: list[list[Hit]] = [[] for _ in range(n_sparse)]
    for row, hits in zip(sparse_rows, results[n_dense:]):
        lexical[row] = hits
    return results[:n_dense], lexical
