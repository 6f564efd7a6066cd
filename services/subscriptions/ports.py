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


class SourceHealth(BaseModel):
    """A source as ingest reports it; fields beyond these are kept for display."""

    model_config = ConfigDict(extra="allow")

    source_id: str = Field(default="", validation_alias="source_id")
    title: str = ""
    url: str = ""
    status: str = ""
    last_error: str | None = None


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
    """GET {ingest_url}/sources, with this service's key."""

    def __init__(self, base_url: str, key: SecretStr, timeout_s: float = 10.0) -> None:
        self.base_url, self.key, self.timeout_s = base_url.rstrip("/"), key, timeout_s

    async def __call__(self) -> list[Any]:
        async with httpx.AsyncClient(timeout=self.timeout_s, headers=bearer(self.key)) as client:
            response = await client.get(f"{self.base_url}/sources")
            response.raise_for_status()
            return response.json()


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


async def fetch_sources(port: IngestPort) -> tuple[list[SourceHealth], str | None]:
    try:
        raw = await port()
        items = raw.get("sources", raw) if isinstance(raw, dict) else raw
        return _SOURCES.validate_python([i.model_dump() if isinstance(i, BaseModel) else i for i in items]), None
    except (httpx.HTTPError, ValidationError, ValueError, TypeError, AttributeError) as exc:
        log.warning("sources unavailable", extra={"error": repr(exc)})
        return [], f"ingest could not list its sources ({type(exc).__name__})"
