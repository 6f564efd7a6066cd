"""`horizon bench ablation`: does each part of the matcher earn its place on topics it was not tuned on?

Each part is removed in turn (a context that switches it off in the production path, nothing
else changed) and the routing benchmark scored again. Per topic, the loss in MAP when the part is
removed is its gain. Two views of how much that gain can be trusted:
- leave one topic out: the mean gain over the other topics, once for each topic left out (the
  spread says how much one topic carries it);
- three random halves of the topics: the gain on each half; the noise is the mean difference
  between the two halves of a split.
A part whose mean gain is below that noise, or that loses on a half, does not earn its place.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from unittest import mock

import numpy as np

from horizon.bench import relevance
from horizon.bench.relevance_data import RelevanceData, cached_doc_vectors
from services.classify import fusion, segment
from services.classify.embedder import Embedder


def _no_expansion() -> AbstractContextManager:
    """Items and background keep their own words (no neighbours' words mixed in)."""
    own = lambda pool, dense, sparse, ids=(): [dict(s) for s in sparse]  # noqa: E731
    return _both(mock.patch.object(relevance, "expand_all", own),
                 mock.patch.object(relevance, "within", lambda pool: [dict(s) for s in pool.sparse]))


def _without(component: int) -> AbstractContextManager:
    """One component's weight at zero: left out of the fused z, as a missing one is."""
    weights = fusion._WEIGHT.copy()
    weights[component] = 0.0
    return mock.patch.object(fusion, "_WEIGHT", weights)


@contextmanager
def _both(*patches: AbstractContextManager) -> Iterator[None]:
    for p in patches:
        p.__enter__()
    try:
        yield
    finally:
        for p in reversed(patches):
            p.__exit__(None, None, None)


#: Each part of the matcher and how to switch it off.
PARTS: dict[str, Callable[[], AbstractContextManager]] = {
    "document expansion": _no_expansion,
    "interest (statement cosine)": lambda: _without(fusion.INTEREST),
    "example (example papers' cosine)": lambda: _without(fusion.EXAMPLE),
    "lexical (BM25)": lambda: _without(fusion.LEXICAL),
    "design markers": lambda: _without(fusion.DESIGN),
    "gate (-> plain sum)": lambda: mock.patch.object(fusion, "gate_at", lambda maps, topical: np.full(topical.shape, 0.5)),
    "asked-for kind of evidence": lambda: mock.patch.object(segment, "ASKED_BONUS", 0.0),
    "translated title penalty": lambda: mock.patch.object(segment, "TRANSLATED_PENALTY", 0.0),
}


def per_topic(data: RelevanceData, vectors: np.ndarray, embedder: Embedder, background: np.ndarray,
              threshold: float) -> dict[str, dict[str, float]]:
    scores, _, _ = relevance.horizon_scores(data, vectors, embedder, background, threshold)
    _, topics = relevance.evaluate(data, scores, threshold)
    return {t: {"map": row["map"], "p@10": row["p@10"]} for t, row in topics.items()}


def gains(full: dict[str, dict[str, float]], without: dict[str, dict[str, float]], metric: str) -> dict[str, float]:
    return {t: full[t][metric] - without[t][metric] for t in full}


def summarise(gain: dict[str, float], halves: list[tuple[list[str], list[str]]]) -> dict:
    topics = sorted(gain)
    loto = [float(np.mean([gain[o] for o in topics if o != t])) for t in topics]
    split = [(float(np.mean([gain[t] for t in a])), float(np.mean([gain[t] for t in b]))) for a, b in halves if a and b]
    noise = float(np.mean([abs(x - y) for x, y in split])) if split else 0.0
    mean = float(np.mean(list(gain.values())))
    return {"gain": round(mean, 4), "loto_min": round(min(loto, default=mean), 4),
            "loto_max": round(max(loto, default=mean), 4), "halves": [(round(x, 4), round(y, 4)) for x, y in split],
            "noise": round(noise, 4), "earns_its_place": bool(mean > noise and all(min(s) > 0 for s in split))}


def run(data: RelevanceData, embedder: Embedder, threshold: float, parts: list[str] | None = None,
        progress: Callable[[str, int, int], None] = lambda *_: None, seed: int = 0) -> dict:
    vectors = cached_doc_vectors(data, embedder)
    background = np.array(sorted(random.Random(0).sample(range(len(data.doc_ids)),
                                                         min(relevance.BACKGROUND, len(data.doc_ids)))))
    topics = sorted(t.topic_id for t in data.topics)
    rng = random.Random(seed)
    halves = []
    for _ in range(3):
        shuffled = rng.sample(topics, len(topics))
        halves.append((shuffled[: len(topics) // 2], shuffled[len(topics) // 2:]))
    names = parts or list(PARTS)
    progress("full matcher", 0, len(names) + 1)
    full = per_topic(data, vectors, embedder, background, threshold)
    out = {"topics": len(topics), "full": {m: round(float(np.mean([full[t][m] for t in topics])), 4)
                                           for m in ("map", "p@10")}, "parts": {}}
    for n, name in enumerate(names, start=1):
        progress(f"without {name}", n, len(names) + 1)
        with PARTS[name]():
            without = per_topic(data, vectors, embedder, background, threshold)
        out["parts"][name] = {"map": summarise(gains(full, without, "map"), halves),
                              "p@10": summarise(gains(full, without, "p@10"), halves),
                              "map_without": round(float(np.mean([without[t]["map"] for t in topics])), 4)}
    return out
