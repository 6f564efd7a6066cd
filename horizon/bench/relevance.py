"""The routing benchmark: bm25, dense and the production matcher ranked over the same documents.

Every topic is one subscriber: its statement is the interest, its seed papers the example
papers (left out of scoring). bm25 ranks by BM25 of the statement (bm25s), dense by cosine
to the statement's embedding, horizon through the production path: profiles applied with
profile_sync, documents scored against the matching table, each document's words
expanded from its nearest background documents (the recent items' pool, neighbours.py). "delivered" is
the set at or above the production threshold; for the two baselines their single score goes
through the same background calibration and threshold.
"""

from __future__ import annotations

import logging
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts import ContentType, Profile, ProfileChanged
from services.classify import lexical
from services.classify.embedder import Embedder
from services.classify.evidence import infer_evidence_type
from services.classify.calibration import Background
from services.classify.examples import disliked_vectors, with_example_texts
from services.classify.index_edge import EdgeEngine
from services.classify.neighbours import Pool, expand_all, within
from services.classify.profile_sync import apply_profile_events
from services.classify.index import RECENT_FIELDS, RecentItem, RecentItems
from horizon.bench.relevance_data import RelevanceData, cached_doc_vectors
from horizon.bench.relevance_metrics import average_precision, macro, ndcg_at, precision_at, set_prf
from services.classify.fusion import COMPONENTS, Maps, calibrate_many, calibrated, fused
from services.classify.segment import ItemBlock
from services.classify.table import ProfileTable

log = logging.getLogger(__name__)

BACKGROUND = 2000  # documents standing in for "recent items" when calibrating
Scores = dict[str, tuple[np.ndarray, np.ndarray]]  # topic -> (ranking score, calibrated score) per doc


def _single(name: str, raw: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A baseline's one score, calibrated as a profile with that one component would be."""
    present = np.array([[c == name for c in COMPONENTS]])
    comps = np.where(present.T[:, :, None], raw, 0.0)  # (components, 1 profile, documents)
    maps = Maps.of(calibrate_many(comps[:, :, background], present), present)
    return raw, calibrated(fused(maps, comps), maps.cut)[0]


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


def dense_examples_scores(data: RelevanceData, doc_vectors: np.ndarray, embedder: Embedder,
                          background: np.ndarray) -> Scores:
    """The strongest simple baseline: cosine to the normalised mean of the statement's vector and
    the example papers' (the topic's seed documents)."""
    q = embedder.encode([t.statement for t in data.topics])
    row = {d: i for i, d in enumerate(data.doc_ids)}
    out = {}
    for n, t in enumerate(data.topics):
        vectors = [q[n]] + [doc_vectors[row[s]] for s in t.seed_doc_ids if s in row]
        centre = np.mean(vectors, axis=0)
        centre /= np.linalg.norm(centre)
        out[t.topic_id] = _single("interest", doc_vectors @ centre, background)
    return out


@dataclass
class _Prepared:
    """Each document's terms, BM25 vector, design markers and evidence type, and the term statistics."""

    doc_terms: list
    stats: lexical.TermStats
    sparse: list
    design: list
    pos: dict[str, int]
    evidence: list[str]


def _prepare(data: RelevanceData) -> _Prepared:
    doc_terms = [lexical.terms(data.text(i)) for i in range(len(data.doc_ids))]
    stats = lexical.TermStats()
    stats.add(doc_terms)
    return _Prepared(doc_terms, stats, [lexical.item_vector(t, stats) for t in doc_terms],
                     [lexical.design_features(data.text(i)) for i in range(len(data.doc_ids))],
                     {d: i for i, d in enumerate(data.doc_ids)},
                     [str(infer_evidence_type(data.titles[i], data.abstracts[i], ContentType.journal_article))
                      for i in range(len(data.doc_ids))])


def _profile_events(data: RelevanceData, prep: _Prepared, version: int = 1,
                    feedback: dict[str, tuple[list[str], list[str]]] | None = None) -> list[ProfileChanged]:
    events = []
    for t in data.topics:
        liked, disliked = (feedback or {}).get(t.topic_id, ([], []))
        events.append(ProfileChanged(
            producer="bench", subscriber_id=t.topic_id, organisation_id="bench", version=version,
            profile=Profile(
                name=t.title, email="bench@example.org", interests=[t.statement], examples=list(t.seed_doc_ids),
                example_texts=[data.text(prep.pos[s]) for s in t.seed_doc_ids if s in prep.pos],
                liked=liked, disliked=disliked,
            ),
        ))
    return events


def _model_scores(table: ProfileTable, items: ItemBlock) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every model's fused z and calibrated score for each item, by model key (filters and
    exclusions applied: -inf and 0 where one removes the item; no threshold)."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for start, ev in table.evaluate(items, None):
        seg, stop = ev.segment, start + ev.z.shape[1]
        for row in np.flatnonzero(seg.live):
            z, score = out.setdefault(seg.keys[row], (np.full(len(items), -np.inf), np.zeros(len(items))))
            z[start:stop] = np.where(ev.accepted[row], ev.z[row], -np.inf)
            score[start:stop] = np.where(ev.accepted[row], ev.score[row], 0.0)
    return out


def _score_all(data: RelevanceData, doc_vectors: np.ndarray, prep: _Prepared, table: ProfileTable, pool: Pool,
               batch: int = 256) -> Scores:
    z = {t.topic_id: np.full(len(data.doc_ids), -np.inf) for t in data.topics}
    score = {t.topic_id: np.zeros(len(data.doc_ids)) for t in data.topics}
    model = {t.topic_id: table.subscribers[t.topic_id].model for t in data.topics}
    for start in range(0, len(data.doc_ids), batch):
        stop = min(start + batch, len(data.doc_ids))
        expanded = expand_all(pool, doc_vectors[start:stop], prep.sparse[start:stop], data.doc_ids[start:stop])
        block = ItemBlock(doc_vectors[start:stop], expanded, prep.design[start:stop], prep.evidence[start:stop],
                          ["bench"] * (stop - start), [[]] * (stop - start),
                          [frozenset(t) for t in prep.doc_terms[start:stop]])
        by_model = _model_scores(table, block)
        for topic, key in model.items():
            z[topic][start:stop], score[topic][start:stop] = by_model[key]
    return {t: (z[t], score[t]) for t in z}


def horizon_scores(
    data: RelevanceData, doc_vectors: np.ndarray, embedder: Embedder, background: np.ndarray,
    threshold: float, feedback_top: int = 0, rounds: int = 1,
) -> tuple[Scores, list[Scores], dict[str, set[str]]]:
    """The production path: ProfileChanged -> profile_sync -> the matching table -> Matcher.

    With `feedback_top`, `rounds` rounds follow as a subscriber's feedback would bring them: in
    each, every topic's top `feedback_top` documents not judged yet (seeds aside) are marked useful
    where judged relevant and not relevant otherwise; the profiles are republished with all the
    feedback so far (liked, disliked) and applied as classify applies them
    (examples.with_example_texts over the documents as seen items), and every document is scored
    again. Returns the static scores, each round's scores, and the documents judged per topic.
    """
    prep = _prepare(data)
    # the background stands for the recent items: calibration's sample and the pool of neighbours
    pool = Pool(doc_vectors[background], [prep.sparse[i] for i in background], [data.doc_ids[i] for i in background])
    bg = Background(pool.dense, within(pool), [prep.design[i] for i in background])
    table = ProfileTable(embedder.dim)
    apply_profile_events(table, None, _profile_events(data, prep), embedder.encode, prep.stats, bg)
    first = _score_all(data, doc_vectors, prep, table, pool)
    if not feedback_top:
        return first, [], {}
    with tempfile.TemporaryDirectory(prefix="horizon-bench-") as tmp:
        recent = RecentItems(EdgeEngine(Path(tmp) / "items", embedder.dim, RECENT_FIELDS))
        try:
            recent.add([RecentItem(d, 0, doc_vectors[i].tolist(), prep.sparse[i],
                                   {"item": {"item_id": d, "title": data.titles[i], "summary": data.abstracts[i]}})
                        for i, d in enumerate(data.doc_ids)])
            judged: dict[str, set[str]] = {t.topic_id: set() for t in data.topics}
            feedback: dict[str, tuple[list[str], list[str]]] = {t.topic_id: ([], []) for t in data.topics}
            latest, after = first, []
            for version in range(2, rounds + 2):
                for t in data.topics:
                    seeds, grades = set(t.seed_doc_ids), data.qrels.get(t.topic_id, {})
                    order = [data.doc_ids[i] for i in np.argsort(-latest[t.topic_id][0], kind="stable")]
                    top = [d for d in order if d not in seeds and d not in judged[t.topic_id]][:feedback_top]
                    judged[t.topic_id].update(top)
                    liked, disliked = feedback[t.topic_id]
                    liked += [d for d in top if grades.get(d, 0) >= 1]
                    disliked += [d for d in top if grades.get(d, 0) < 1]
                events = [with_example_texts(e, recent) for e in _profile_events(data, prep, version, feedback)]
                apply_profile_events(table, None, events, embedder.encode, prep.stats, bg,
                                     disliked=lambda e: disliked_vectors(e, recent, embedder.dim))
                latest = _score_all(data, doc_vectors, prep, table, pool)
                after.append(latest)
            return first, after, judged
        finally:
            recent.close()


def evaluate(data: RelevanceData, scores: Scores, threshold: float,
             judged: dict[str, set[str]] | None = None) -> tuple[dict, dict]:
    """Macro metrics over topics, and each topic's own (seeds, and documents already judged
    through feedback, left out)."""
    per_topic = {}
    for t in data.topics:
        rank_score, calibrated = scores[t.topic_id]
        seeds = set(t.seed_doc_ids) | (judged or {}).get(t.topic_id, set())
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


METHODS = ("bm25", "dense", "dense+examples", "horizon")
#: The simple methods horizon is measured against; the target is a ratio to the best of them.
BASELINES = METHODS[:-1]


def run(data: RelevanceData, embedder: Embedder, threshold: float, methods: tuple[str, ...] = METHODS,
        progress: Callable[[str], None] = lambda _: None, feedback_top: int = 0, rounds: int = 1) -> dict:
    """The benchmark's JSON object (see DESIGN.md). With `feedback_top`, a "feedback" entry
    too: horizon statically and after each of `rounds` rounds of feedback on each topic's top
    documents, all scored on the documents no round judged."""
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
        elif name == "dense+examples":
            scores = dense_examples_scores(data, vectors, embedder, background)
        else:
            scores, after, judged = horizon_scores(data, vectors, embedder, background, threshold, feedback_top, rounds)
            if after:
                static = evaluate(data, scores, threshold, judged)[0]
                result["feedback"] = {
                    "judged_per_topic_per_round": feedback_top, "rounds": len(after),
                    "methods": {"horizon": static, **{f"horizon+feedback{n}": evaluate(data, a, threshold, judged)[0]
                                                      for n, a in enumerate(after, start=1)}},
                }
                result["feedback"]["map_ratio"] = round(
                    result["feedback"]["methods"][f"horizon+feedback{len(after)}"]["map"] / max(static["map"], 1e-9), 3)
        summary, per_topic = evaluate(data, scores, threshold)
        result["methods"][name] = summary
        for topic, row in per_topic.items():
            result["per_topic"].setdefault(topic, {})[name] = row
    baselines = [m for m in BASELINES if m in result["methods"]]
    if "horizon" in result["methods"] and baselines:
        best = max(baselines, key=lambda m: result["methods"][m]["map"])
        result["vs_best_baseline"] = {"baseline": best, "map_ratio": round(
            result["methods"]["horizon"]["map"] / max(result["methods"][best]["map"], 1e-9), 3)}
    return result
