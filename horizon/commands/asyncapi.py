"""`horizon asyncapi [--check]`: write or check the AsyncAPI documents under docs/asyncapi/."""

from __future__ import annotations

import typer

from horizon import asyncapi as documents


def asyncapi(check: bool = typer.Option(False, "--check", help="Fail if a committed document is stale.")) -> None:
    """Generate the services' AsyncAPI 3.0 documents from their FastStream apps."""
    if check:
        stale = documents.drifted()
        if stale:
            typer.echo(f"stale AsyncAPI documents: {', '.join(stale)}; run `horizon asyncapi`", err=True)
            raise typer.Exit(1)
        typer.echo("AsyncAPI documents are current")
        return
    for path in documents.write_all():
        typer.echo(f"wrote {path}")
