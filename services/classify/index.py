"""The profile index port: where classify keeps its profiles, whichever way Qdrant runs.

index_edge.py (Qdrant Edge, in process, the default) and index_client.py (a Qdrant server, or its
local mode in tests) implement it. It is the matching table's durable store, read back in pages
at start; matching itself scores every model in memory, so no search can leave a subscriber out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.classify.lexical import Sparse

DENSE = "dense"
LEXICAL = "lexical"
#: Points read per page when the index is scrolled.
PAGE = 1000


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
    dense: Sequence[float] | None = None


class ProfileIndex(Protocol):
    def upsert(self, points: Sequence[IndexPoint]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def retrieve(self, ids: Sequence[str]) -> list[Hit]: ...

    def scroll(self, kind: str, with_vectors: bool = False) -> Iterator[list[Hit]]:
        """Every point of one kind, a page at a time."""
        ...

    def awaiting(self, keys: Sequence[str]) -> list[Hit]:
        """Every "awaiting" point (profiles.awaiting_point) waiting for any of these lookup keys."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...
