"""The routing benchmark: bm25, dense and the production matcher ranked over the same documents.

Every topic is one subscriber: its statement is the interest, its seed papers the example
papers (left out of scoring). bm25 ranks by BM25 of the statement (bm25s), dense by cosine
to the statement's embedding, horizon through the production path: profiles applied with
profile_sync, documents scored by the Matcher over a real Qdrant Edge index. "delivered" is
the set at or above the production threshold; for the two baselines their single score goes
through the same background calibration and threshold.
"""

from __future__ import annotations

import logging
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from contracts import Profile, ProfileChanged
from services.classify import lexical
from services.classify.embedder import Embedder
from services.classify.index import ItemFilter
from services.classify.index_edge import EdgeProfileIndex
from services.classify.matcher import ItemQuery, Matcher
from services.classify.profile_sync import apply_profile_events
from services.classify.relevance_data import RelevanceData, cached_doc_vectors
from services.classify.relevance_metrics import average_precision, macro, ndcg_at, precision_at, set_prf
from services.classify.scoring import calibrate, calibrated_score, fuse

log = logging.getLogger(__name__)

BACKGROUND = 2000  # documents standing in for "recent items" when calibrating
Scores = dict[str, tuple[np.ndarray, np.ndarray]]  # topic -> (ranking score, calibrated score) per doc


def _single(name: str, raw: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cal = calibrate({name: raw[background]})
    z = np.array([fuse({name: float(v)}, cal) for v in raw])
    return raw, np.array([calibrated_score(float(v), cal.cut) for v in z])


def bm25_scores(data: RelevanceData, background: np.ndarray) -> Scores:
    import bm25s

    corpus = bm25s.tokenize([data.text(i) for i in range(len(data.doc_ids))], stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    out = {}
    for t in data.topics:
        q = bm25s.tokenize([t.statement], stopwords="en", show_progress=False, return_ids=False)[0]
        out[t.topic_id] = _single("lexical", retriever.get_scores(q), background)
    return out


def dense_scores(data: RelevanceData, doc_vectors: np.ndarray, embedder: Embedder, background: np.ndarray) -> Scores:
    q = embedder.encode([t.statement for t in data.topics])
    return {t.topic_id: _single("interest", doc_vectors @ q[n], background) for n, t in enumerate(data.topics)}


def horizon_scores(
    data: RelevanceData, doc_vectors: np.ndarray, embedder: Embedder, background: np.ndarray,
    threshold: float, batch: int = 256,
) -> Scores:
    """The production path: ProfileChanged -> profile index (Qdrant Edge) -> Matcher.score."""
    doc_terms = [lexical.terms(data.text(i)) for i in range(len(data.doc_ids))]
    stats = lexical.TermStats()
    stats.add(doc_terms)
    sparse = [lexical.item_vector(t, stats) for t in doc_terms]
    design = [lexical.design_features(data.text(i)) for i in range(len(data.doc_ids))]
    pos = {d: i for i, d in enumerate(data.doc_ids)}
    events = [
        ProfileChanged(
            producer="bench", subscriber_id=t.topic_id, organisation_id="bench", version=1,
            profile=Profile(
                name=t.title, email="bench@example.org", interests=[t.statement], examples=list(t.seed_doc_ids),
                example_texts=[data.text(pos[s]) for s in t.seed_doc_ids if s in pos],
            ),
        )
        for t in data.topics
    ]
    with tempfile.TemporaryDirectory(prefix="horizon-bench-") as tmp:
        index = EdgeProfileIndex(Path(tmp) / "profiles", embedder.dim)
        try:
            apply_profile_events(index, events, embedder.encode, stats,
                                 (doc_vectors[background], [sparse[i] for i in background], [design[i] for i in background]))
            matcher = Matcher(index, threshold=threshold)
            z = {t.topic_id: np.full(len(data.doc_ids), -np.inf) for t in data.topics}
            score = {t.topic_id: np.zeros(len(data.doc_ids)) for t in data.topics}
            flt = ItemFilter(evidence_type="article", source_id="bench")
            for start in range(0, len(data.doc_ids), batch):
                rows = range(start, min(start + batch, len(data.doc_ids)))
                items = [ItemQuery(doc_vectors[i], sparse[i], frozenset(doc_terms[i]), flt, design=design[i])
                         for i in rows]
                for i, matches in zip(rows, matcher.score(items)):
                    for m in matches:
                        z[m.subscriber_id][i] = m.z
                        score[m.subscriber_id][i] = m.score
        finally:
            index.close()
    return {t: (z[t], score[t]) for t in z}


def evaluate(data: RelevanceData, scores: Scores, threshold: float) -> tuple[dict, dict]:
    """Macro metrics over topics, and each topic's own."""
    per_topic = {}
    for t in data.topics:
        rank_score, calibrated = scores[t.topic_id]
        seeds = set(t.seed_doc_ids)
        grades = {d: g for d, g in data.qrels.get(t.topic_id, {}).items() if d not in seeds}
        relevant = {d for d, g in grades.items() if g >= 1}
        order = [data.doc_ids[i] for i in np.argsort(-rank_score, kind="stable") if data.doc_ids[i] not in seeds]
        delivered = {data.doc_ids[i] for i in np.flatnonzero(calibrated >= threshold)} - seeds
        per_topic[t.topic_id] = {
            "map": average_precision(order, relevant),
            "ndcg@10": ndcg_at(order, grades),
            "p@10": precision_at(order, relevant),
            "delivered": {**set_prf(delivered, relevant), "n": len(delivered)},
        }
    rows = list(per_topic.values())
    summary = {k: sum(r[k] for r in rows) / len(rows) for k in ("map", "ndcg@10", "p@10")}
    summary["delivered"] = macro([{k: r["delivered"][k] for k in ("precision", "recall", "f1")} for r in rows])
    return summary, per_topic


def run(data: RelevanceData, embedder: Embedder, threshold: float, methods: tuple[str, ...] = ("bm25", "dense", "horizon"),
        progress: Callable[[str], None] = lambda _: None) -> dict:
    """The benchmark's JSON object (see DESIGN.md)."""
    progress("document vectors")
    vectors = cached_doc_vectors(data, embedder)
    background = np.array(sorted(random.Random(0).sample(range(len(data.doc_ids)), min(BACKGROUND, len(data.doc_ids)))))
    result: dict = {"topics": len(data.topics), "methods": {}, "per_topic": {}}
    for name in methods:
        progress(name)
        if name == "bm25":
            scores = bm25_scores(data, background)
        elif name == "dense":
            scores = dense_scores(data, vectors, embedder, background)
        else:
            scores = horizon_scores(data, vectors, embedder, background, threshold)
        summary, per_topic = evaluate(data, scores, threshold)
        result["methods"][name] = summary
        for topic, row in per_topic.items():
            result["per_topic"].setdefault(topic, {})[name] = row
    return result
