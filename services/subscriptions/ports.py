"""The other services this one asks things of, as ports: classify's preview, ingest's sources.

A port is any async callable; the HTTP adapters here are the production ones, and tests or
the embedded demo pass an in-process function instead. `fetch_preview` / `fetch_sources`
turn every expected failure (service down, bad answer) into a value the UI can show.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Awaitable, Callable

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from contracts import Profile
from services.common.service_auth import bearer

log = logging.getLogger(__name__)


class PreviewReason(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: str
    text: str
    score: float = 0.0


class PreviewItem(BaseModel):
    """One item classify says the profile would have received."""

    model_config = ConfigDict(extra="ignore")

    item_id: str
    title: str
    url: str = ""
    score: float = 0.0
    reasons: list[PreviewReason] = Field(default_factory=list)
    evidence_type: str = ""
    published_at: datetime | None = None
    summary: str = ""


class SourceHealth(BaseModel):
    """A source as ingest reports it; fields beyond these are kept for display."""

    model_config = ConfigDict(extra="allow")

    source_id: str = Field(default="", validation_alias="source_id")
    title: str = ""
    url: str = ""
    status: str = ""
    last_error: str | None = None
    enabled: bool = True
    items_30d: int = 0
    consecutive_failures: int = 0
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error_at: datetime | None = None
    next_attempt_at: datetime | None = None
    last_item_count: int = 0
    last_warning: str | None = None
    content_type: str = "journal_article"
    poll_interval_s: int = 3600
    publisher: str = ""

    @property
    def name(self) -> str:
        """The title, else the feed's address: never a bare id."""
        return self.title or self.url or self.source_id


ClassifyPort = Callable[[Profile, int], Awaitable[list[Any]]]
IngestPort = Callable[[], Awaitable[list[Any]]]


class HttpClassify:
    """POST {classify_url}/preview with {"profile": Profile, "days": n}, with this service's key."""

    def __init__(self, base_url: str, key: SecretStr, timeout_s: float = 10.0) -> None:
        self.base_url, self.key, self.timeout_s = base_url.rstrip("/"), key, timeout_s

    async def __call__(self, profile: Profile, days: int) -> list[Any]:
        async with httpx.AsyncClient(timeout=self.timeout_s, headers=bearer(self.key)) as client:
            response = await client.post(
                f"{self.base_url}/preview", json={"profile": profile.model_dump(mode="json"), "days": days}
            )
            response.raise_for_status()
            return response.json()


class HttpIngest:
    """GET {ingest_url}/sources (calling the port), and any other call of ingest's sources API
    (`request`: add, preview, edit, pause, delete, OPML), with this service's key."""

    def __init__(self, base_url: str, key: SecretStr, timeout_s: float = 10.0) -> None:
        self.base_url, self.key, self.timeout_s = base_url.rstrip("/"), key, timeout_s

    async def __call__(self) -> list[Any]:
        response = await self.request("GET", "/sources")
        response.raise_for_status()
        return response.json()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # a feed preview fetches the feed: allow it the fetch's own time on top of ours
        timeout = self.timeout_s * 4 if path.endswith("/preview") else self.timeout_s
        async with httpx.AsyncClient(timeout=timeout, headers=bearer(self.key)) as client:
            return await client.request(method, f"{self.base_url}{path}", **kwargs)


_ITEMS = TypeAdapter(list[PreviewItem])
_SOURCES = TypeAdapter(list[SourceHealth])


async def fetch_preview(port: ClassifyPort, profile: Profile, days: int = 7) -> tuple[list[PreviewItem], str | None]:
    """The preview, or an empty list and the reason it could not be had."""
    try:
        raw = await port(profile, days)
        items = raw.get("items", raw) if isinstance(raw, dict) else raw
        return _ITEMS.validate_python([i.model_dump() if isinstance(i, BaseModel) else i for i in items]), None
    except (httpx.HTTPError, ValidationError, ValueError, TypeError, AttributeError) as exc:
        log.warning("preview unavailable", extra={"error": repr(exc)})
        return [], f"classify could not give a preview ({type(exc).__name__})"


INGEST_DOWN = "Horizon's feed service (ingest) could not be reached, so nothing was changed; try again in a minute"


async def ingest_call(port: Any, method: str, path: str, **kwargs: Any) -> tuple[Any, str | None]:
    """One call of ingest's sources API: its answer (JSON, or text for OPML), or a message for a
    librarian saying why not. A port without `request` (an in-process list) cannot make changes."""
    request = getattr(port, "request", None)
    if request is None:
        return None, "this installation's feed service takes no changes from the web (it is an in-process list)"
    try:
        response = await request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        log.warning("ingest call failed", extra={"path": path, "error": repr(exc)})
        return None, INGEST_DOWN
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = None
        if isinstance(detail, list):  # FastAPI's validation errors
            detail = "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict))
        return None, str(detail or f"the feed service answered HTTP {response.status_code}")
    if response.status_code == 204:
        return {}, None
    if "json" in response.headers.get("content-type", ""):
        return response.json(), None
    return response.text, None


async def fetch_sources(port: IngestPort) -> tuple[list[SourceHealth], str | None]:
    try:
        raw = await port()
        items = raw.get("sources", raw) if isinstance(raw, dict) else raw
        return _SOURCES.validate_python([i.model_dump() if isinstance(i, BaseModel) else i for i in items]), None
    except (httpx.HTTPError, ValidationError, ValueError, TypeError, AttributeError) as exc:
        log.warning("sources unavailable", extra={"error": repr(exc)})
        return [], f"ingest could not list its sources ({type(exc).__name__})"
