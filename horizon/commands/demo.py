"""`horizon demo`: the embedded end-to-end run in one process."""

from __future__ import annotations

from pathlib import Path

import typer

from horizon.demo import DEFAULT_SOURCES, DEFAULT_SUBSCRIBERS, run_demo


def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", help="Folder for the digests and summary.json."),
    sources: Path = typer.Option(
        DEFAULT_SOURCES, "--sources", help="A folder of feed files or an OPML file.", exists=True
    ),
    subscribers: Path = typer.Option(
        DEFAULT_SUBSCRIBERS, "--subscribers", help="A subscribers file (YAML or CSV).", exists=True, dir_okay=False
    ),
) -> None:
    """Run ingest, classify, subscriptions and notify in one process on the embedded defaults."""
    out.mkdir(parents=True, exist_ok=True)
    report = run_demo(out, sources, subscribers)
    typer.echo(
        f"Ingested {report.items_ingested} items from {report.sources} sources; "
        f"{report.items_classified} classified, {report.matches} matches."
    )
    for error in report.source_errors:
        typer.echo(f"  source failed: {error['source']}: {error['error']}", err=True)
    for email, row in report.subscribers.items():
        status = f"{len(row['items'])} items" if row["digest"] else "nothing matched, no digest"
        if row["board_briefing"]:
            status += "; the board briefing"
        typer.echo(f"  {row['name']} ({row['role']}): {status}")
    typer.echo(f"{len(report.digests)} digests written to {out.resolve()} (each as .eml and .html)")
    for pdf in report.pdfs:
        typer.echo(f"  its PDF: {pdf.name}")
    typer.echo(f"Summary: {(out / 'summary.json').resolve()}")
