"""`horizon bench ...`: relevance, pipeline, ingest, summaries and scale benchmarks."""

import typer

from horizon.commands import bench_classify, bench_ingest, bench_scale, bench_summaries

app = typer.Typer(help="Benchmarks: relevance, pipeline, ingest, summaries and scale.", no_args_is_help=True)
app.command("relevance")(bench_classify.relevance)
app.command("pipeline")(bench_classify.pipeline)
app.command("ablation")(bench_classify.ablation)
app.command("ingest")(bench_ingest.ingest)
app.command("summaries")(bench_summaries.summaries)
app.command("scale")(bench_scale.scale)
