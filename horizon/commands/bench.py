"""`horizon bench ...`: relevance, pipeline and ingest benchmarks."""

import typer

from horizon.commands import bench_classify, bench_ingest

app = typer.Typer(help="Benchmarks: relevance, pipeline and ingest.", no_args_is_help=True)
app.command("relevance")(bench_classify.relevance)
app.command("pipeline")(bench_classify.pipeline)
app.command("ingest")(bench_ingest.ingest)
