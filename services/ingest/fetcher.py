"""Polite HTTP fetching of one feed: conditional GET, limits, redirects, and no private addresses.

`fetch()` never raises for expected failures: every outcome is a `FetchResult`, with `error`
set to a named `IngestError` when the fetch failed. Redirects are followed by hand so that each
hop's address is checked, loops are caught, and a chain of permanent redirects can move the
stored URL. The body is streamed (gzip decoded by httpx) and cut off past `max_body_bytes`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpcore
import httpx

from services.ingest.errors import ErrorKind, IngestError
from services.ingest.netguard import ForbiddenAddress, GuardedBackend, check_url
from services.ingest.schedule import parse_retry_after
from services.ingest.settings import IngestSettings

log = logging.getLogger(__name__)

ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
          "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


@dataclass(frozen=True)
class FetchResult:
    """What one fetch came to."""

    url: str
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # the new URL, when every redirect on the way was permanent
    retry_after_s: float | None = None
    error: IngestError | None = None


def make_client(settings: IngestSettings) -> httpx.AsyncClient:
    """The shared HTTP client: timeouts, User-Agent, no automatic redirects; unless private
    addresses are allowed, its connections go through the SSRF guard's own resolution."""
    timeout = httpx.Timeout(connect=settings.connect_timeout_s, read=settings.read_timeout_s,
                            write=settings.read_timeout_s, pool=settings.connect_timeout_s)
    transport = None if settings.allow_private_addresses else guarded_transport()
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport,
                             headers={"User-Agent": settings.user_agent, "Accept": ACCEPT})


def guarded_transport() -> httpx.AsyncHTTPTransport:
    """httpx's transport over a connection pool whose network backend is the SSRF guard.

    httpx has no parameter for httpcore's network backend, so the pool it builds is replaced
    by an equal one (httpx's defaults: its TLS context, HTTP/1.1, its limits) that has it;
    tests/integration/ingest/test_fetcher.py fails if a new httpx stops using it."""
    transport = httpx.AsyncHTTPTransport()
    limits = httpx.Limits()
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 (see above)
        ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
        http1=True, http2=False, network_backend=GuardedBackend())
    return transport


async def fetch(client: httpx.AsyncClient, url: str, settings: IngestSettings, now: datetime, *,
                etag: str | None = None, last_modified: str | None = None) -> FetchResult:
    """Fetch one feed URL within the whole-response deadline; never raises for a failed fetch."""
    if url.startswith("file:"):
        return read_file_url(url, settings)
    try:
        async with asyncio.timeout(settings.total_timeout_s):
            return await _fetch_http(client, url, settings, now, etag, last_modified)
    except TimeoutError:
        return _error(url, ErrorKind.timeout, f"no complete response within {settings.total_timeout_s:g} s")
    except httpx.TimeoutException as exc:
        return _error(url, ErrorKind.timeout, f"{type(exc).__name__}: {exc or 'timed out'}")
    except ForbiddenAddress as exc:
        return _error(url, ErrorKind.forbidden_address, str(exc))
    except httpx.ConnectError as exc:
        return _error(url, ErrorKind.connect_error, f"cannot connect: {exc}")
    except httpx.InvalidURL as exc:
        return _error(url, ErrorKind.invalid_url, str(exc))
    except (httpx.HTTPError, httpx.StreamError) as exc:
        return _error(url, ErrorKind.read_error, f"{type(exc).__name__}: {exc}")


def _error(url: str, kind: ErrorKind, message: str, **fields: object) -> FetchResult:
    return FetchResult(url=url, error=IngestError(kind=kind, message=message), **fields)  # type: ignore[arg-type]


async def _fetch_http(client: httpx.AsyncClient, url: str, settings: IngestSettings, now: datetime,
                      etag: str | None, last_modified: str | None) -> FetchResult:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current, visited, permanent = url, {url}, True
    for _hop in range(settings.max_redirects + 1):
        refused = await check_url(current, settings.allow_private_addresses)
        if refused:
            return FetchResult(url=current, error=refused)
        async with client.stream("GET", current, headers=headers) as resp:
            if resp.status_code in _REDIRECTS and resp.headers.get("location"):
                target = urljoin(current, resp.headers["location"])
                if target in visited:
                    return _error(current, ErrorKind.redirect_loop, f"redirect loop back to {target}")
                visited.add(target)
                permanent = permanent and resp.status_code in _PERMANENT
                current = target
                continue
            moved = current if permanent and current != url else None
            return await _response(resp, current, moved, settings, now)
    return _error(current, ErrorKind.too_many_redirects, f"more than {settings.max_redirects} redirects")


async def _response(resp: httpx.Response, url: str, moved: str | None, settings: IngestSettings,
                    now: datetime) -> FetchResult:
    status = resp.status_code
    common = {"status": status, "moved_to": moved}
    if status == 304:
        return FetchResult(url=url, not_modified=True, etag=resp.headers.get("etag"),
                           last_modified=resp.headers.get("last-modified"), **common)
    if status in (429, 503):
        wait = parse_retry_after(resp.headers.get("retry-after"), now)
        return _error(url, ErrorKind.rate_limited, f"HTTP {status}" + (f", retry after {wait:g} s" if wait else ""),
                      retry_after_s=wait, **common)
    if status == 410:
        return _error(url, ErrorKind.gone, "HTTP 410 Gone: the publisher removed this feed", **common)
    if status >= 400:
        return _error(url, ErrorKind.http_error, f"HTTP {status} {resp.reason_phrase}", **common)
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_body_bytes:
        return _error(url, ErrorKind.too_large, f"declared {declared} bytes, limit {settings.max_body_bytes}", **common)
    chunks, size = [], 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > settings.max_body_bytes:
            return _error(url, ErrorKind.too_large, f"body over the {settings.max_body_bytes}-byte limit", **common)
        chunks.append(chunk)
    return FetchResult(url=url, body=b"".join(chunks), content_type=resp.headers.get("content-type", ""),
                       etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"), **common)


def read_file_url(url: str, settings: IngestSettings) -> FetchResult:
    """A file:// source (demo and end-to-end tests), when the setting allows it."""
    if not settings.allow_file_urls:
        return _error(url, ErrorKind.file_urls_disabled, "file:// URLs are not allowed (HORIZON_INGEST_ALLOW_FILE_URLS)")
    path = Path(unquote(urlsplit(url).path))
    try:
        size = path.stat().st_size
        if size > settings.max_body_bytes:
            return _error(url, ErrorKind.too_large, f"{size} bytes, limit {settings.max_body_bytes}")
        return FetchResult(url=url, status=200, body=path.read_bytes())
    except OSError as exc:
        return _error(url, ErrorKind.read_error, f"cannot read {path}: {exc.strerror or exc}")
