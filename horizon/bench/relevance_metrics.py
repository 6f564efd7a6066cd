"""Ranking and delivery metrics for the routing benchmark (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def average_precision(ranking: Sequence[str], relevant: set[str]) -> float:
    """AP of a full ranking; relevant items missing from the ranking count as never found."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for rank, doc in enumerate(ranking, start=1):
        if doc in relevant:
            hits += 1
            total += hits / rank
    return total / len(relevant)


def ndcg_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with gain 2^grade - 1 (grades below 1 give nothing)."""
    def gain(g: int) -> float:
        return (2.0**g - 1.0) if g > 0 else 0.0

    dcg = sum(gain(grades.get(d, 0)) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(gain(g) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def precision_at(ranking: Sequence[str], relevant: set[str], k: int = 10) -> float:
    return sum(1 for d in ranking[:k] if d in relevant) / k


def set_prf(delivered: set[str], relevant: set[str]) -> dict[str, float]:
    """Precision, recall and F1 of a delivered set (an empty delivery has precision 0)."""
    tp = len(delivered & relevant)
    p = tp / len(delivered) if delivered else 0.0
    r = tp / len(relevant) if relevant else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def macro(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {k: sum(r[k] for r in rows) / len(rows) for k in keys}
