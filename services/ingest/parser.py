"""Feed bytes to entries: feedparser for RSS 0.9x/1.0/2.0 and Atom, jsonfeed.py for JSON Feed.

A bozo feed (ill-formed XML, a wrong encoding) still yields every entry feedparser recovered,
with the problem kept as a warning. A document that is not a feed at all (an HTML bot-check page,
some other XML) yields a named error instead of an empty success. A feed whose prolog declares
entities is refused before feedparser reads it (xmlsafe.entity_problem): no expansion bombs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import feedparser

from services.ingest.errors import ErrorKind, IngestError
from services.ingest.jsonfeed import looks_like_json, parse_json_feed
from services.ingest.xmlsafe import entity_problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedFeed:
    """What a body held: the feed's own fields, its entries, and any problem met on the way."""

    version: str = ""
    feed: dict[str, Any] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    warning: IngestError | None = None
    error: IngestError | None = None


def looks_like_html(body: bytes) -> bool:
    """Whether the document is an HTML page (by its first tag), not a feed."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :].lstrip()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def parse_feed(body: bytes, url: str = "", content_type: str = "") -> ParsedFeed:
    """Parse one feed document; never raises: failures come back as `ParsedFeed.error`."""
    if not body.strip():
        return ParsedFeed(error=IngestError(kind=ErrorKind.empty_body, message="the response body is empty"))
    if looks_like_json(body):
        parsed = parse_json_feed(body)
        if isinstance(parsed, str):
            return ParsedFeed(error=IngestError(kind=ErrorKind.not_a_feed, message=parsed))
        return ParsedFeed(version=parsed.version, feed=parsed.feed, entries=list(parsed.entries))
    refused = entity_problem(body)  # read in the feed's own encoding: UTF-16 hides nothing
    if refused:
        return ParsedFeed(error=IngestError(kind=ErrorKind.parse_error, message=refused))
    # Without a Content-Type (a file) feedparser would call every feed bozo; pass headers only with one.
    headers = {"content-type": content_type, "content-location": url} if content_type else {}
    try:
        # Bytes, never a str: feedparser treats a str as a URL or a path and would fetch it.
        doc = feedparser.parse(body, response_headers=headers or None, sanitize_html=True)
    except (ValueError, TypeError, LookupError, AttributeError, IndexError, KeyError, RecursionError) as exc:
        # feedparser promises not to raise; these are what its sub-parsers have raised on odd input.
        log.warning("feedparser raised", extra={"url": url, "error": repr(exc)})
        return ParsedFeed(error=IngestError(kind=ErrorKind.parse_error, message=f"{type(exc).__name__}: {exc}"))
    entries = list(doc.get("entries") or [])
    version = doc.get("version") or ""
    problem = _bozo_message(doc)
    if not entries and not version:
        if looks_like_html(body):
            return ParsedFeed(error=IngestError(
                kind=ErrorKind.html_page, message="an HTML page was served instead of a feed"
                + _title_hint(body)))
        return ParsedFeed(error=IngestError(
            kind=ErrorKind.not_a_feed,
            message=problem or "the document is not RSS, Atom, RDF or JSON Feed"))
    warning = IngestError(kind=ErrorKind.bozo, message=problem) if problem else None
    return ParsedFeed(version=version, feed=dict(doc.get("feed") or {}), entries=entries, warning=warning)


def _bozo_message(doc: Any) -> str:
    if not doc.get("bozo"):
        return ""
    exc = doc.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc is not None else "ill-formed feed"


def _title_hint(body: bytes) -> str:
    head = body[:8192].decode("utf-8", "replace")
    start = head.lower().find("<title>")
    end = head.lower().find("</title>", start)
    if start < 0 or end < 0:
        return ""
    return f" (page title: {' '.join(head[start + 7 : end].split())[:120]!r})"
