"""A feed fetched once for a librarian deciding whether to add it: its title, how many entries it
holds and its newest item, or the reason it could not be read. Nothing is stored or published.

The fetch goes through the same client as polling (SSRF guard, size and time limits)."""

from __future__ import annotations

from datetime import datetime

import httpx
from pydantic import BaseModel

from services.ingest.fetcher import fetch
from services.ingest.parser import parse_feed
from services.ingest.settings import IngestSettings
from services.ingest.tables import Source, SourceCreate
from services.ingest.usecases import parse_items


class PreviewRequest(BaseModel):
    url: str


class PreviewItem(BaseModel):
    title: str
    url: str = ""
    published_at: datetime | None = None


class FeedPreview(BaseModel):
    url: str
    ok: bool
    title: str = ""
    entries: int = 0
    items: int = 0
    newest: PreviewItem | None = None
    error_kind: str | None = None
    error_message: str | None = None
    warning: str | None = None


async def preview_feed(client: httpx.AsyncClient, url: str, settings: IngestSettings, now: datetime) -> FeedPreview:
    """Fetch and parse `url` once; never raises for a feed that fails."""
    try:
        url = SourceCreate(url=url).url
    except ValueError:
        return FeedPreview(url=url, ok=False, error_kind="invalid_url", error_message="the URL needs a scheme, e.g. https://")
    fetched = await fetch(client, url, settings, now)
    if fetched.error:
        return FeedPreview(url=url, ok=False, error_kind=fetched.error.kind.value, error_message=fetched.error.message)
    if fetched.status is not None and fetched.status >= 400:
        return FeedPreview(url=url, ok=False, error_kind="http_error", error_message=f"HTTP {fetched.status}")
    parsed = parse_items(fetched.body, Source(id="preview", url=url), url=url, content_type=fetched.content_type)
    if parsed.error:
        return FeedPreview(url=url, ok=False, error_kind=parsed.error.kind.value, error_message=parsed.error.message)
    dated = [i for i in parsed.items if i.published_at]
    newest = max(dated, key=lambda i: i.published_at) if dated else (parsed.items[0] if parsed.items else None)
    title = _feed_title(fetched.body, url, fetched.content_type)
    return FeedPreview(url=url, ok=True, title=title, entries=parsed.entries, items=len(parsed.items),
                       newest=PreviewItem(title=newest.title, url=str(newest.url or ""), published_at=newest.published_at)
                       if newest else None, warning=parsed.warning.message if parsed.warning else None)


def _feed_title(body: bytes, url: str, content_type: str) -> str:
    feed = parse_feed(body, url=url, content_type=content_type).feed
    return str(feed.get("title") or "").strip()[:300]
