"""An item's words expanded with those of its nearest recent items (document expansion, pure).

A trial of amlodipine may never say "calcium channel blocker"; its nearest neighbours by meaning
among the recent items do (the cluster hypothesis; Tao et al. 2006). The lexical component scores
the item's own BM25 vector mixed half and half with the mean of its NEIGHBOURS nearest recent
items'. The pool is the sample of recent items profiles are calibrated against, so a background
item is expanded the same way, from the others; below MIN_POOL an item keeps its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.classify.lexical import Sparse

#: Nearest recent items an item's words are expanded with, and their share of the mix.
NEIGHBOURS = 20
SHARE = 0.5
#: Fewer recent items than this are too few to stand for an item's neighbourhood.
MIN_POOL = 50
#: Items whose similarities to the pool are taken at once.
CHUNK = 1024


@dataclass(frozen=True)
class Pool:
    """The recent items words are taken from: dense vectors (one row each), BM25 vectors and ids."""

    dense: np.ndarray
    sparse: Sequence[Sparse]
    ids: Sequence[str] = ()

    def __len__(self) -> int:
        return len(self.sparse)


def nearest(pool: Pool, dense: np.ndarray, ids: Sequence[str | None] = (), k: int = NEIGHBOURS) -> np.ndarray:
    """For each row of `dense`, the pool rows of its k nearest items by cosine (unit vectors),
    leaving out the pool's own copy of the item (the same id in `ids`)."""
    sims = np.asarray(dense, dtype=np.float32) @ np.asarray(pool.dense, dtype=np.float32).T
    leave_out = bool(len(ids) and len(pool.ids))
    if leave_out:
        row_of = {item_id: n for n, item_id in enumerate(pool.ids)}
        for i, item_id in enumerate(ids):
            if item_id in row_of:
                sims[i, row_of[item_id]] = -np.inf
    k = min(k, len(pool) - int(leave_out))
    if k <= 0:
        return np.zeros((len(sims), 0), dtype=int)
    return np.argpartition(-sims, k - 1, axis=1)[:, :k]


def expand(own: Sparse, neighbours: Sequence[Sparse], share: float = SHARE) -> Sparse:
    """(1 - share) of the item's own weights plus `share` of its neighbours' mean."""
    if not neighbours:
        return dict(own)
    out = {t: (1.0 - share) * w for t, w in own.items()}
    each = share / len(neighbours)
    for vector in neighbours:
        for t, w in vector.items():
            out[t] = out.get(t, 0.0) + each * w
    return out


def expand_all(pool: Pool, dense: np.ndarray, sparse: Sequence[Sparse], ids: Sequence[str | None] = ()) -> list[Sparse]:
    """Each item's BM25 vector expanded from its nearest pool items; its own where the pool is
    smaller than MIN_POOL."""
    if len(pool) < MIN_POOL or not len(sparse):
        return [dict(s) for s in sparse]
    out: list[Sparse] = []
    for start in range(0, len(sparse), CHUNK):  # a chunk's similarities at a time (preview: many items)
        rows = nearest(pool, dense[start:start + CHUNK], list(ids[start:start + CHUNK]) if len(ids) else ())
        out += [expand(own, [pool.sparse[j] for j in r]) for own, r in zip(sparse[start:start + CHUNK], rows)]
    return out


def within(pool: Pool) -> list[Sparse]:
    """The pool's own items expanded, each from the others (the calibration background)."""
    ids = list(pool.ids) or [str(n) for n in range(len(pool))]
    return expand_all(Pool(pool.dense, pool.sparse, ids), pool.dense, pool.sparse, ids)
