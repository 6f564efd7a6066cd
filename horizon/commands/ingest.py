"""`horizon ingest ...`: parse feeds to items, and manage the sources ingest polls.

- `horizon ingest parse FILE_OR_URL...`: normalised items as JSON lines (contracts.Item) on stdout;
  one JSON line {"input", "error", "message"} on stderr per input that failed; exit 1 if any failed.
- `horizon ingest sources add|list|edit|remove|import-opml|export-opml`: the SQL store named by
  HORIZON_INGEST_DATABASE_URL (or --db).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Ingest: parse feeds and manage sources.", no_args_is_help=True)
sources_app = typer.Typer(help="Sources: add, list, edit, remove, OPML import and export.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL; default HORIZON_INGEST_DATABASE_URL.")]


def _read(target: str):
    from contracts import utcnow
    from services.ingest.fetcher import fetch, make_client, read_file_url
    from services.ingest.settings import IngestSettings

    settings = IngestSettings()
    if "://" in target and not target.startswith("file:"):
        async def run():
            async with make_client(settings) as client:
                return await fetch(client, target, settings, utcnow())
        return asyncio.run(run())
    path = Path(target[7:] if target.startswith("file://") else target)
    return read_file_url(path.resolve().as_uri(), settings.model_copy(update={"allow_file_urls": True}))


@app.command("parse")
def parse(inputs: Annotated[list[str], typer.Argument(help="Feed files or URLs.")]) -> None:
    """Print the normalised items of each feed as JSON lines; errors as JSON lines on stderr."""
    from services.ingest.store import source_id_for
    from services.ingest.tables import Source
    from services.ingest.usecases import parse_items

    failed = 0
    for target in inputs:
        got = _read(target)
        result = None
        if not got.error:
            is_url = "://" in target and not target.startswith("file:")
            sid = source_id_for(target) if is_url else Path(target).stem
            result = parse_items(got.body, Source(id=sid, url=got.url), url=got.url, content_type=got.content_type)
        error = got.error or (result.error if result else None)
        if error:
            failed += 1
            sys.stderr.write(json.dumps(error.as_line(target)) + "\n")
            continue
        for item in result.items:  # type: ignore[union-attr]
            sys.stdout.write(item.model_dump_json() + "\n")
    sys.stdout.flush()
    raise typer.Exit(1 if failed else 0)


def _store(db: str | None):
    from services.ingest.settings import IngestSettings
    from services.ingest.store import SqlStore

    return SqlStore(db or IngestSettings().database_url)


def _row(source) -> str:
    state = "ok" if source.consecutive_failures == 0 else f"FAILING x{source.consecutive_failures} ({source.last_error_kind})"
    return "\t".join([source.id, "on" if source.enabled else "off", source.content_type.value, state,
                      source.title or "-", source.url])


@sources_app.command("add")
def add(url: str, title: str = "", publisher: str = "", content_type: str = "journal_article",
        poll_interval: int = 3600, source_id: Annotated[str | None, typer.Option("--id")] = None,
        db: DbOption = None) -> None:
    """Add one source."""
    from services.ingest.tables import SourceCreate

    try:
        new = SourceCreate(id=source_id, url=url, title=title, publisher=publisher, content_type=content_type,
                           poll_interval_s=poll_interval)
        created = _store(db).add_source(new)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(_row(created))


@sources_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOption = None) -> None:
    """List sources with their health."""
    from services.ingest.api import public

    for source in _store(db).list_sources():
        typer.echo(public(source).model_dump_json() if as_json else _row(source))


@sources_app.command("edit")
def edit(source_id: str, url: str | None = None, title: str | None = None, publisher: str | None = None,
         content_type: str | None = None, poll_interval: int | None = None,
         enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None, db: DbOption = None) -> None:
    """Change fields of a source (only those given)."""
    from services.ingest.tables import SourceUpdate

    fields = {"url": url, "title": title, "publisher": publisher, "content_type": content_type,
              "poll_interval_s": poll_interval, "enabled": enabled}
    try:
        change = SourceUpdate.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    updated = _store(db).update_source(source_id, change)
    if updated is None:
        typer.echo(f"no source {source_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(_row(updated))


@sources_app.command("remove")
def remove(source_id: str, db: DbOption = None) -> None:
    """Remove a source (items already published stay published)."""
    if not _store(db).remove_source(source_id):
        typer.echo(f"no source {source_id!r}", err=True)
        raise typer.Exit(1)


@sources_app.command("import-opml")
def import_opml(file: Path, db: DbOption = None) -> None:
    """Add every feed of an OPML file; feeds already present (same id or URL) are skipped."""
    from services.ingest.sources import import_outlines
    from services.ingest.opml import OpmlError, parse_opml

    try:
        outlines = parse_opml(file.read_bytes())
    except (OpmlError, OSError) as exc:
        typer.echo(f"cannot read {file}: {exc}", err=True)
        raise typer.Exit(1) from exc
    report = import_outlines(_store(db), outlines, base=file.parent)
    typer.echo(f"added {len(report.added)}, skipped {len(report.skipped)}, invalid {len(report.invalid)}")
    for line in report.invalid:
        typer.echo(f"invalid: {line}", err=True)


@sources_app.command("export-opml")
def export_opml(out: Annotated[Path | None, typer.Option("--out", "-o")] = None, db: DbOption = None) -> None:
    """Write every source as OPML 2.0 (stdout unless --out)."""
    from services.ingest.sources import export_opml as render

    text = render(_store(db).list_sources())
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)
