"""JSON Feed (jsonfeed.org, versions 1 and 1.1) read into feedparser's entry shape.

feedparser 6.0 reads RSS 0.9x, RSS 1.0, RSS 2.0 and Atom but not JSON Feed; this module maps a
JSON Feed field by field to the same keys so that normalising treats every format alike.
"""

from __future__ import annotations

import json
from typing import Any

from feedparser import FeedParserDict


def looks_like_json(body: bytes) -> bool:
    """Whether the body starts like a JSON object (after a BOM and whitespace)."""
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(body: bytes) -> FeedParserDict | str:
    """The feed as a FeedParserDict (version 'json1'), or a message saying why it is not one."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not valid JSON: {exc}"
    if not isinstance(doc, dict) or "jsonfeed.org" not in str(doc.get("version", "")):
        return "JSON document without a jsonfeed.org version"
    items = doc.get("items")
    if not isinstance(items, list):
        return "JSON Feed without an items list"
    feed = FeedParserDict(
        title=str(doc.get("title") or ""),
        link=str(doc.get("home_page_url") or ""),
        language=doc.get("language"),
    )
    entries = [_entry(item) for item in items if isinstance(item, dict)]
    return FeedParserDict(feed=feed, entries=entries, version="json1", bozo=False)


def _authors(item: dict[str, Any]) -> list[FeedParserDict]:
    raw = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    return [FeedParserDict(name=str(a.get("name"))) for a in raw if isinstance(a, dict) and a.get("name")]


def _entry(item: dict[str, Any]) -> FeedParserDict:
    html_body = item.get("content_html")
    text_body = item.get("content_text")
    summary = item.get("summary") or html_body or text_body or ""
    entry = FeedParserDict(
        id=str(item.get("id") or ""),
        title=str(item.get("title") or ""),
        link=str(item.get("url") or item.get("external_url") or ""),
        summary=str(summary),
        authors=_authors(item),
        published=item.get("date_published"),
        updated=item.get("date_modified"),
        tags=[FeedParserDict(term=str(t)) for t in item.get("tags") or []],
        language=item.get("language"),
    )
    if html_body or text_body:
        entry["content"] = [FeedParserDict(value=str(html_body or text_body))]
    return entry
