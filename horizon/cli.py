"""The `horizon` command line: one entry point, one sub-command module per concern."""

from __future__ import annotations

import logging
import os

import typer

from horizon.commands import asyncapi, bench, demo, dlq, ingest, kafka, up

app = typer.Typer(
    name="horizon",
    help="Horizon: horizon scanning and evidence alerting for health library and knowledge teams.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(kafka.app, name="kafka")
app.add_typer(ingest.app, name="ingest")
app.add_typer(bench.app, name="bench")
app.add_typer(dlq.app, name="dlq")
app.command("demo")(demo.demo)
app.command("up")(up.up)
app.command("asyncapi")(asyncapi.asyncapi)


@app.callback()
def options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the services' and libraries' INFO logs."),
) -> None:
    """Commands print what a person needs; logs stay at WARNING unless asked for (--verbose, or
    HORIZON_LOG_LEVEL)."""
    if verbose:
        logging.getLogger().setLevel(logging.INFO)


def main() -> None:
    # Model weights never come from a hub at run time: they ship in a Python package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # our own bars say what matters
    logging.basicConfig(
        level=os.environ.get("HORIZON_LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.captureWarnings(True)
    app()


if __name__ == "__main__":
    main()
