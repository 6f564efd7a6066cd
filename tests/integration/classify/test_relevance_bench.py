"""The routing benchmark's production path on a small data set written here (fake embedder)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from horizon.bench import relevance
from horizon.bench.relevance_data import load

from .conftest import DIM, fake_embed


class FakeEmbedder:
    dim, key = DIM, "fake@0"

    def encode(self, texts):
        return fake_embed(list(texts))


def write_data(root: Path) -> Path:
    docs = [{"doc_id": f"af{n}", "title": f"Warfarin anticoagulation in atrial fibrillation study {n}",
             "abstract": "Stroke prevention with warfarin or apixaban in atrial fibrillation."} for n in range(6)]
    rng = np.random.default_rng(0)
    words = ("dental caries fluoride varnish school knee surgery physiotherapy discharge nurse ward audit "
             "antibiotic prescribing diabetes insulin asthma inhaler depression therapy cancer screening "
             "vaccine uptake obesity exercise diet sleep pain opioid hip fracture falls dementia").split()
    docs += [{"doc_id": f"x{n}", "title": " ".join(rng.choice(words, 6)), "abstract": " ".join(rng.choice(words, 20))}
             for n in range(1500)]
    (root / "topics.jsonl").write_text(json.dumps({
        "topic_id": "af", "title": "AF", "statement": "Anticoagulation for atrial fibrillation",
        "seed_doc_ids": ["af0"]}) + "\n")
    with gzip.open(root / "docs.jsonl.gz", "wt") as f:
        f.write("\n".join(json.dumps(d) for d in docs) + "\n")
    (root / "qrels.tsv").write_text("topic_id\tdoc_id\tgrade\n" + "".join(f"af\taf{n}\t2\n" for n in range(6))
                                    + "af\tx0\t0\n")
    return root


def test_horizon_path_ranks_relevant_documents_first(tmp_path):
    data = load(write_data(tmp_path))
    assert len(data.doc_ids) == 1506 and data.qrels["af"]["x0"] == 0
    vectors = fake_embed([data.text(i) for i in range(len(data.doc_ids))])
    background = np.arange(len(data.doc_ids))
    scores, after, judged = relevance.horizon_scores(data, vectors, FakeEmbedder(), background, threshold=0.5)
    assert after == [] and judged == {}
    summary, per_topic = relevance.evaluate(data, scores, threshold=0.5)
    assert summary["map"] == 1.0 and summary["p@10"] == 0.5
    assert set(summary["delivered"]) == {"precision", "recall", "f1"}
    assert per_topic["af"]["delivered"]["n"] >= 1


def test_a_round_of_feedback_is_scored_on_the_documents_it_did_not_judge(tmp_path):
    data = load(write_data(tmp_path))
    vectors = fake_embed([data.text(i) for i in range(len(data.doc_ids))])
    background = np.arange(len(data.doc_ids))
    first, [second], judged = relevance.horizon_scores(data, vectors, FakeEmbedder(), background, 0.5, feedback_top=3)
    assert len(judged["af"]) == 3 and "af0" not in judged["af"]
    before, _ = relevance.evaluate(data, first, 0.5, judged)
    after, per_topic = relevance.evaluate(data, second, 0.5, judged)
    relevant_left = {f"af{n}" for n in range(1, 6)} - judged["af"]
    assert per_topic["af"]["delivered"]["n"] >= 1 and len(relevant_left) >= 2
    assert before["map"] == 1.0 and after["map"] == 1.0  # the rest still ranked first, through the second round


def test_the_bench_reports_every_method_and_horizon_against_the_best_simple_baseline(tmp_path, monkeypatch):
    from horizon.bench import relevance_data

    monkeypatch.setattr(relevance_data, "DEFAULT_CACHE", tmp_path / "cache")
    data = load(write_data(tmp_path))
    result = relevance.run(data, FakeEmbedder(), threshold=0.5)
    assert list(result["methods"]) == ["bm25", "dense", "dense+examples", "horizon"]
    best = result["vs_best_baseline"]
    assert best["baseline"] in ("bm25", "dense", "dense+examples")
    assert best["map_ratio"] == round(result["methods"]["horizon"]["map"] / result["methods"][best["baseline"]]["map"], 3)


def test_every_part_can_be_switched_off_for_the_ablation(tmp_path, monkeypatch):
    from horizon.bench import ablation, relevance_data

    monkeypatch.setattr(relevance_data, "DEFAULT_CACHE", tmp_path / "cache")
    data = load(write_data(tmp_path))
    result = ablation.run(data, FakeEmbedder(), threshold=0.5)
    assert set(result["parts"]) == set(ablation.PARTS)
    for row in result["parts"].values():
        assert 0.0 <= row["map_without"] <= 1.0 and row["map"]["noise"] >= 0.0
    assert result["parts"]["lexical (BM25)"]["map_without"] <= result["full"]["map"]
    halves = ablation.summarise({"a": 0.1, "b": 0.3, "c": 0.2, "d": 0.0}, [(["a", "b"], ["c", "d"])])
    assert halves["gain"] == 0.15 and halves["halves"] == [(0.2, 0.1)] and halves["noise"] == 0.1
    assert halves["earns_its_place"] is True and halves["loto_min"] == 0.1  # without topic b


def test_rounds_of_feedback_judge_new_documents_each_time(tmp_path, monkeypatch):
    from horizon.bench import relevance_data

    monkeypatch.setattr(relevance_data, "DEFAULT_CACHE", tmp_path / "cache")
    data = load(write_data(tmp_path))
    result = relevance.run(data, FakeEmbedder(), 0.5, methods=("horizon",), feedback_top=2, rounds=2)
    feedback = result["feedback"]
    assert feedback["rounds"] == 2 and list(feedback["methods"]) == ["horizon", "horizon+feedback1", "horizon+feedback2"]
    assert feedback["map_ratio"] == round(feedback["methods"]["horizon+feedback2"]["map"]
                                          / feedback["methods"]["horizon"]["map"], 3)
    vectors = fake_embed([data.text(i) for i in range(len(data.doc_ids))])
    _, after, judged = relevance.horizon_scores(data, vectors, FakeEmbedder(), np.arange(len(data.doc_ids)), 0.5,
                                                feedback_top=2, rounds=2)
    assert len(after) == 2 and len(judged["af"]) == 4  # two documents a round, none judged twice
