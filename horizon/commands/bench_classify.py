"""`horizon bench relevance` and `horizon bench pipeline`: classify's benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def relevance(
    data: Path = typer.Option(..., "--data", help="A benchmark folder (topics.jsonl, docs.jsonl.gz, qrels.tsv).",
                              exists=True, file_okay=False),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    max_seq_length: int = typer.Option(0, "--max-seq-length", help="Override the model's truncation (tokens)."),
    feedback: int = typer.Option(0, "--feedback", min=0,
                                 help="Also run rounds of feedback on each topic's top N documents not judged yet."),
    rounds: int = typer.Option(1, "--rounds", min=1, help="Rounds of feedback (with --feedback)."),
) -> None:
    """The routing benchmark: bm25, dense and the production matcher."""
    from horizon.bench import relevance as bench
    from services.classify.embedder import Embedder
    from horizon.bench.relevance_data import load
    from services.classify.settings import ClassifySettings

    settings = ClassifySettings()
    if max_seq_length:
        settings = settings.model_copy(update={"max_seq_length": max_seq_length})
    embedder = Embedder(settings.model, settings.max_seq_length, settings.batch_size, settings.device)
    result = bench.run(load(data), embedder, settings.threshold,
                       progress=lambda step: typer.echo(f"... {step}", err=True), feedback_top=feedback, rounds=rounds)
    if as_json:
        typer.echo(json.dumps(result, indent=None))
        return
    typer.echo(f"{result['topics']} topics, model {embedder.key}, threshold {settings.threshold}")
    typer.echo(f"{'method':14s} {'MAP':>6s} {'nDCG@10':>8s} {'P@10':>6s} {'del.P':>6s} {'del.R':>6s} {'del.F1':>6s}")
    for name, m in result["methods"].items():
        d = m["delivered"]
        typer.echo(f"{name:14s} {m['map']:6.3f} {m['ndcg@10']:8.3f} {m['p@10']:6.3f} "
                   f"{d['precision']:6.3f} {d['recall']:6.3f} {d['f1']:6.3f}")
    if "vs_best_baseline" in result:
        best = result["vs_best_baseline"]
        typer.echo(f"horizon's MAP is {best['map_ratio']:.3f}x the best simple baseline ({best['baseline']})")
    if "feedback" in result:
        typer.echo(f"after {rounds} round(s) of feedback on each topic's top {feedback} "
                   f"(scored on the documents no round judged; last round {result['feedback']['map_ratio']}x static):")
        for name, m in result["feedback"]["methods"].items():
            typer.echo(f"{name:17s} MAP {m['map']:6.3f} P@10 {m['p@10']:6.3f} delivered P {m['delivered']['precision']:6.3f}")


def pipeline(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    items: int = typer.Option(512, "--items", help="Item texts to encode and classify."),
    points: str = typer.Option("10000,100000", "--points",
                               help="Distinct interest-point counts to time matching at, comma-separated "
                                    "(every profile is scored; `horizon bench scale` measures shared populations)."),
) -> None:
    """Classify throughput against raw encode speed; match latency as profiles grow."""
    from horizon.bench.pipeline import run

    try:
        sizes = tuple(int(p) for p in points.split(",") if p.strip())
    except ValueError:
        raise typer.BadParameter("a comma-separated list of whole numbers, e.g. 10000,100000", param_hint="--points")
    if not sizes or min(sizes) < 1000:
        raise typer.BadParameter("each count at least 1000", param_hint="--points")
    result = run(items=items, sizes=sizes)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"encode {result['encode_items_per_s']:.1f} items/s, classify {result['classify_items_per_s']:.1f} "
               f"items/s, ratio {result['ratio']:.2f}")
    for n, lat in result["match_ms"].items():
        typer.echo(f"match with {n} interest points: p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms")
    typer.echo(f"peak RSS {result['peak_rss_mb']:.0f} MB")


def ablation(
    data: Path = typer.Option(..., "--data", help="A benchmark folder (topics.jsonl, docs.jsonl.gz, qrels.tsv).",
                              exists=True, file_okay=False),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    part: list[str] = typer.Option([], "--part", help="Only these parts (repeatable); default all."),
) -> None:
    """Each part of the matcher removed in turn: its gain, leave-one-topic-out and over random halves."""
    from horizon.bench import ablation as bench
    from horizon.bench.relevance_data import load
    from horizon.progress import progress_bars
    from services.classify.embedder import Embedder
    from services.classify.settings import ClassifySettings

    settings = ClassifySettings()
    embedder = Embedder(settings.model, settings.max_seq_length, settings.batch_size, settings.device)
    unknown = [p for p in part if p not in bench.PARTS]
    if unknown:
        raise typer.BadParameter(f"unknown part(s) {unknown}; known: {list(bench.PARTS)}", param_hint="--part")
    with progress_bars() as progress:
        result = bench.run(load(data), embedder, settings.threshold, part or None, progress)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['topics']} topics; full matcher MAP {result['full']['map']:.4f}, P@10 {result['full']['p@10']:.4f}")
    typer.echo(f"{'part removed':45s} {'MAP':>7s} {'gain':>7s} {'LOTO min..max':>16s} {'noise':>7s}  keep")
    for name, row in result["parts"].items():
        m = row["map"]
        typer.echo(f"{name:45s} {row['map_without']:7.4f} {m['gain']:+7.4f} {m['loto_min']:+7.4f}..{m['loto_max']:+7.4f} "
                   f"{m['noise']:7.4f}  {'yes' if m['earns_its_place'] else 'no'}")
