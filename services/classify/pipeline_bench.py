"""`horizon bench pipeline`: classify's throughput against the model's own, and match latency.

In one run: raw encode throughput of the model on item texts (the physical floor), then the
Classifier's end-to-end throughput on the same texts (embed, tag, infer evidence, match against
profiles in Qdrant Edge, publish to an in-memory publisher), their ratio; then the latency of
matching one item through the Matcher against 10k and 100k interest points (random unit vectors,
five per synthetic subscriber, HNSW built) and the process's peak RSS.
"""

from __future__ import annotations

import logging
import random
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from contracts import Item, ItemDiscovered, Profile, ProfileChanged
from services.classify import lexical
from services.classify.embedder import Embedder, item_text
from services.classify.enrich import Enricher
from services.classify.index import IndexPoint, ItemFilter
from services.classify.index_edge import EdgeProfileIndex, EdgeRecentItems
from services.classify.matcher import ItemQuery, Matcher
from services.classify.neighbours import Terms
from services.classify.profiles import point_id
from services.classify.relevance_data import load
from services.classify.settings import ClassifySettings

log = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "relevance" / "dev"
POINTS_PER_SUBSCRIBER = 5


def _texts(n: int, data_dir: Path) -> list[tuple[str, str]]:
    data = load(data_dir)
    rows = random.Random(1).sample(range(len(data.doc_ids)), min(n, len(data.doc_ids)))
    return [(data.titles[i], data.abstracts[i]) for i in rows]


def throughput(embedder: Embedder, docs: list[tuple[str, str]], batch: int = 64) -> tuple[float, float]:
    """(raw encode items/s, classify items/s) on the same texts, in this order, after a warm-up."""
    from services.classify.classifier import Classifier

    texts = [item_text(t, a) for t, a in docs]
    embedder.encode(texts[:batch])
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        embedder.encode(texts[i:i + batch])
    encode_rate = len(texts) / (time.perf_counter() - start)

    published: list = []
    with tempfile.TemporaryDirectory(prefix="horizon-bench-") as tmp:
        classifier = Classifier(embedder.encode, embedder.key, embedder.dim,
                                EdgeProfileIndex(Path(tmp) / "p", embedder.dim),
                                EdgeRecentItems(Path(tmp) / "i", embedder.dim),
                                Enricher(embedder.encode), lexical.TermStats())
        classifier.apply_profiles([
            ProfileChanged(producer="bench", subscriber_id=f"s{n}", organisation_id="o", version=1,
                           profile=Profile(name="b", email="b@example.org", interests=[title]))
            for n, (title, _) in enumerate(docs[:50])
        ])
        events = [ItemDiscovered(producer="bench", item=Item(item_id=f"bench:{n}", source_id="bench", title=t,
                                                             summary=a)) for n, (t, a) in enumerate(docs)]
        start = time.perf_counter()
        for i in range(0, len(events), batch):
            result = classifier.classify(events[i:i + batch])
            published.extend(result.classified)
            published.extend(result.matched)
        classify_rate = len(events) / (time.perf_counter() - start)
        classifier.close()
    return encode_rate, classify_rate


def match_latency(n_points: int, dim: int, queries: int = 300, warmup: int = 300, seed: int = 7) -> dict[str, float]:
    """p50/p95 ms of Matcher.match for one item against n_points interest points, once the
    matcher's cache of profile metadata is warm (as in a running service)."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="horizon-bench-") as tmp:
        index = EdgeProfileIndex(Path(tmp) / "p", dim)
        n_subs = n_points // POINTS_PER_SUBSCRIBER
        for start in range(0, n_subs, 2000):
            points = []
            for s in range(start, min(start + 2000, n_subs)):
                sub = f"s{s}"
                vecs = rng.standard_normal((POINTS_PER_SUBSCRIBER, dim)).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                base = {"subscriber_id": sub, "active": 1, "content_types": ["*"], "sources": ["*"]}
                terms = {int(t): 1.0 / 8 for t in rng.integers(0, 50_000, 8)}
                points.append(IndexPoint(point_id(sub, "profile"), {
                    **base, "kind": "profile", "organisation_id": "o", "version": 1, "deleted": 0, "topics": [],
                    "interests": [f"interest {k}" for k in range(POINTS_PER_SUBSCRIBER)], "examples": [],
                    "n_interests": POINTS_PER_SUBSCRIBER, "n_examples": 0, "calibration": {},
                    "lexical_ids": sorted(terms), "lexical_weights": [terms[t] for t in sorted(terms)]}, sparse=terms))
                points += [IndexPoint(point_id(sub, "interest", k), {**base, "kind": "interest", "n": k,
                                                                      "text": f"interest {k}"}, dense=v.tolist())
                           for k, v in enumerate(vecs)]
            index.upsert(points)
        index.optimize()
        matcher = Matcher(index)
        flt = ItemFilter("article", "bench")
        timings = []
        for q in range(queries + warmup):
            v = rng.standard_normal(dim).astype(np.float32)
            v /= np.linalg.norm(v)
            sparse = {int(t): 1.0 for t in rng.integers(0, 50_000, 60)}
            # its words expanded from 20 neighbours: ~900 terms, as measured on journal abstracts
            expanded = Terms.of({**{int(t): 0.05 for t in rng.integers(0, 50_000, 840)}, **sparse})
            item = ItemQuery(v, sparse, frozenset(), flt, expanded=expanded)
            start = time.perf_counter()
            matcher.match([item])
            if q >= warmup:
                timings.append((time.perf_counter() - start) * 1000)
        index.close()
    return {"p50": float(np.percentile(timings, 50)), "p95": float(np.percentile(timings, 95))}


def run(items: int = 512, data_dir: Path = DEFAULT_DATA, sizes: tuple[int, ...] = (10_000, 100_000)) -> dict:
    """The benchmark's JSON object (see DESIGN.md)."""
    settings = ClassifySettings()
    embedder = Embedder(settings.model, settings.max_seq_length, settings.batch_size, settings.device)
    encode_rate, classify_rate = throughput(embedder, _texts(items, data_dir))
    latency = {str(n): match_latency(n, embedder.dim) for n in sizes}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "encode_items_per_s": round(encode_rate, 2),
        "classify_items_per_s": round(classify_rate, 2),
        "ratio": round(classify_rate / encode_rate, 3),
        "match_ms": {k: {kk: round(vv, 3) for kk, vv in v.items()} for k, v in latency.items()},
        "peak_rss_mb": round(peak, 1),
    }
