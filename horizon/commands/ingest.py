"""`horizon ingest ...`: parse feeds, manage sources."""

import typer

app = typer.Typer(help="Ingest: parse feeds and manage sources.", no_args_is_help=True)
