"""Local sources for the demo and tests: a folder of feed files, or an OPML file.

- `load_local_sources(path) -> list[Source]`: `path` is a folder (each feed file one source,
  content types from an optional `sources.opml` in it, else journal_article) or an OPML file whose
  outlines' `xmlUrl` are file paths relative to the OPML file, or URLs (see opml.py for the
  content-type attributes).
- `ingest_local(path, store, now=None, settings=None) -> LocalIngestResult`: reads every source,
  ingests it (claiming its works in the store) and clears the claimed events from the store's
  outbox: the caller's "publish" is the returned events.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from contracts import ContentType, ItemDiscovered, utcnow
from services.ingest.dedupe import WorkClaims
from services.ingest.errors import IngestError
from services.ingest.fetcher import FetchResult, fetch, make_client, read_file_url
from services.ingest.opml import OpmlOutline, parse_opml
from services.ingest.settings import IngestSettings
from services.ingest.store import source_id_for
from services.ingest.tables import Source
from services.ingest.usecases import ingest_feed

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".json", ".feed"}
INDEX_NAME = "sources.opml"


@dataclass(frozen=True)
class LocalError:
    """A local source that gave no items, and why."""

    source_id: str
    input: str
    error: IngestError


@dataclass
class LocalIngestResult:
    """Everything a local run found: events in order, failed sources, and warnings (bozo feeds)."""

    events: list[ItemDiscovered] = field(default_factory=list)
    errors: list[LocalError] = field(default_factory=list)
    warnings: list[LocalError] = field(default_factory=list)
    sources: int = 0
    entries: int = 0


class StoreLike(WorkClaims, Protocol):
    def published(self, event_ids: list[str]) -> None: ...


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "source"


def _source(outline: OpmlOutline, base: Path) -> Source:
    url = outline.xml_url
    if "://" not in url:
        url = (base / url).resolve().as_uri()
    sid = outline.source_id or (_slug(Path(outline.xml_url).stem) if "://" not in outline.xml_url
                                else source_id_for(url))
    return Source(id=sid, url=url, title=outline.title or Path(outline.xml_url).stem,
                  publisher=outline.publisher, content_type=outline.content_type,
                  poll_interval_s=outline.poll_interval_s or 3600, enabled=outline.enabled)


def load_local_sources(path: Path) -> list[Source]:
    """The sources of a folder of feed files or of an OPML file (see the module docstring)."""
    path = Path(path)
    if path.is_file():
        return [_source(o, path.parent) for o in parse_opml(path.read_bytes())]
    index = path / INDEX_NAME
    typed: dict[str, OpmlOutline] = {}
    if index.is_file():
        for outline in parse_opml(index.read_bytes()):
            if "://" not in outline.xml_url:
                typed[(path / outline.xml_url).resolve().name] = outline
    sources = []
    for file in sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FEED_SUFFIXES):
        outline = typed.get(file.name) or OpmlOutline(xml_url=file.name, title=file.stem,
                                                      content_type=ContentType.journal_article)
        sources.append(_source(OpmlOutline(**{**outline.__dict__, "xml_url": file.name}), path))
    return sources


def _read(source: Source, settings: IngestSettings) -> FetchResult:
    if source.url.startswith("file:"):
        return read_file_url(source.url, settings)

    async def run() -> FetchResult:
        async with make_client(settings) as client:
            return await fetch(client, source.url, settings, utcnow())

    # A thread of its own, so that this works whether or not the caller runs an event loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def ingest_local(path: Path, store: StoreLike, now: datetime | None = None,
                 settings: IngestSettings | None = None) -> LocalIngestResult:
    """Ingest every local source in order, claiming its works; return the events and errors."""
    settings = settings or IngestSettings(allow_file_urls=True)
    now = now or utcnow()
    result = LocalIngestResult()
    for source in load_local_sources(path):
        result.sources += 1
        fetched = _read(source, settings)
        if fetched.error:
            result.errors.append(LocalError(source.id, source.url, fetched.error))
            continue
        outcome = ingest_feed(source, fetched.body, store, now, url=fetched.url, content_type=fetched.content_type,
                              near_duplicate_threshold=settings.near_duplicate_threshold)
        if outcome.error:
            result.errors.append(LocalError(source.id, source.url, outcome.error))
            continue
        if outcome.warning:
            result.warnings.append(LocalError(source.id, source.url, outcome.warning))
        result.entries += outcome.entries
        result.events.extend(outcome.events)
        store.published([e.event_id for e in outcome.events])  # handed to the caller
    return result
