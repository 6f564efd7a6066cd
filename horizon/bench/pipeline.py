"""`horizon bench pipeline`: classify's throughput against the model's own, and match latency.

In one run: raw encode throughput of the model on item texts (the physical floor), then the
Classifier's end-to-end throughput on the same texts (embed, tag, infer evidence, match against
every profile in the table, the profile index in Qdrant Edge), their ratio; then the latency of
matching one item through the Matcher against 10k and 100k interest points (random unit vectors,
five distinct statements per synthetic subscriber, each with its own words) and the process's
peak RSS. Realistic populations and fan-out are `horizon bench scale`'s.
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
from services.classify.tagger import Tagger
from services.classify.taxonomy import load_taxonomy
from horizon.bench.relevance_data import load
from services.classify.index_edge import edge_stores
from services.classify.matcher import Matcher
from services.classify.parts import Part
from services.classify.profiles import ProfileModel, Subscriber
from services.classify.segment import ItemBlock
from services.classify.settings import ClassifySettings
from services.classify.table import ProfileTable

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
        classifier = Classifier(embedder.encode, embedder.key, embedder.dim, *edge_stores(Path(tmp), embedder.dim),
                                Tagger(load_taxonomy(), embedder.encode), lexical.TermStats())
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


def synthetic_table(n_points: int, dim: int, seed: int = 7) -> ProfileTable:
    """A table of n_points / POINTS_PER_SUBSCRIBER subscribers, each with POINTS_PER_SUBSCRIBER
    statements of its own (random unit vectors, eight random words each), prior calibration."""
    rng = np.random.default_rng(seed)
    table = ProfileTable(dim)
    n_subs = n_points // POINTS_PER_SUBSCRIBER
    for start in range(0, n_subs, 5000):
        subs = range(start, min(start + 5000, n_subs))
        parts = [Part(f"interest:s{s}-{k}", "interest", f"s{s}-{k}", f"interest {k}",
                      {int(t): 1.0 / 8 for t in rng.integers(0, 50_000, 8)})
                 for s in subs for k in range(POINTS_PER_SUBSCRIBER)]
        vectors = rng.standard_normal((len(parts), dim)).astype(np.float32)
        table.parts.add(parts, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        models = [ProfileModel(f"m{s}", {"interest": [f"interest:s{s}-{k}" for k in range(POINTS_PER_SUBSCRIBER)]})
                  for s in subs]
        table.add_models(models)
        for s in subs:
            table.assign(Subscriber(f"s{s}", "o", 1, f"m{s}"))
    return table


def match_latency(n_points: int, dim: int, queries: int = 300, warmup: int = 20, seed: int = 7) -> dict[str, float]:
    """p50/p95 ms of Matcher.match for one item against every profile of a synthetic table."""
    rng = np.random.default_rng(seed)
    matcher = Matcher(synthetic_table(n_points, dim, seed))
    timings = []
    for q in range(queries + warmup):
        v = rng.standard_normal((1, dim)).astype(np.float32)
        v /= np.linalg.norm(v)
        # its words expanded from 20 neighbours: ~900 terms, as measured on journal abstracts
        expanded = {int(t): 0.05 for t in rng.integers(0, 50_000, 900)}
        item = ItemBlock(v, [expanded], [frozenset()], ["article"], ["bench"], [[]], [frozenset()])
        start = time.perf_counter()
        matcher.match(item)
        if q >= warmup:
            timings.append((time.perf_counter() - start) * 1000)
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
