"""Source management shared by the CLI and the API: OPML import into the store, export from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from services.ingest.opml import OpmlOutline, render_opml
from services.ingest.store import SqlStore, source_id_for
from services.ingest.tables import Source, SourceCreate


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def import_outlines(store: SqlStore, outlines: list[OpmlOutline], base: Path | None = None) -> ImportReport:
    """Add each outline as a source; duplicates (same id or URL) are skipped, bad ones reported."""
    report = ImportReport()
    for outline in outlines:
        url = outline.xml_url
        if "://" not in url and base is not None:
            url = (base / url).resolve().as_uri()
        try:
            new = SourceCreate(id=outline.source_id, url=url, title=outline.title, publisher=outline.publisher,
                               content_type=outline.content_type, enabled=outline.enabled,
                               poll_interval_s=outline.poll_interval_s or 3600)
        except ValidationError as exc:
            report.invalid.append(f"{url}: {exc.errors()[0]['msg']}")
            continue
        sid = new.id or source_id_for(new.url)
        if store.get_source(sid) or store.find_by_url(new.url):
            report.skipped.append(sid)
            continue
        report.added.append(store.add_source(new).id)
    return report


def export_opml(sources: list[Source]) -> str:
    """OPML 2.0 of the sources, with Horizon's attributes (content type, id, publisher, interval)."""
    return render_opml([
        OpmlOutline(xml_url=s.url, title=s.title, content_type=s.content_type, publisher=s.publisher,
                    source_id=s.id, poll_interval_s=s.poll_interval_s, enabled=s.enabled)
        for s in sources])
