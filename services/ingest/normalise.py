"""One feed entry to one `contracts.Item`: clean text, identifiers, dates, journal, language. Pure.

An entry with nothing a reader could use (no title, summary, link or id) is dropped with the
reason `empty_entry`; every other entry becomes an item, an untitled one titled from its text.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from contracts import ContentType, Item
from services.ingest.identifiers import canonical_url, find_doi, find_pmid
from services.ingest.identity import content_hash, item_id
from services.ingest.language import item_language
from services.ingest.text import clean_title, html_to_text, strip_bidi_controls

MAX_SUMMARY_CHARS = 20_000
_UNTITLED_CHARS = 120


class SourceLike(Protocol):
    """What normalising needs to know about the source an entry came from."""

    id: str
    title: str
    publisher: str
    content_type: ContentType


@dataclass(frozen=True)
class Dropped:
    """An entry that did not become an item, and why."""

    reason: str
    detail: str = ""


def normalise_entry(entry: dict[str, Any], feed: dict[str, Any], source: SourceLike) -> Item | Dropped:
    """Map one feedparser entry of `source` to an Item, or say why it was dropped."""
    summary = _summary(entry)
    guid = _str(entry.get("id")) or None
    link = _str(entry.get("link")) or (guid if guid and guid.startswith(("http://", "https://")) else "")
    title = clean_title(_str(entry.get("title")))
    if not title:
        title = _untitled(summary, link)
    if not title:
        return Dropped("empty_entry", "no title, summary, link or id" if not guid else f"only an id: {guid}")
    urls = [link, guid, _str(entry.get("prism_url")), *(_str(lk.get("href")) for lk in entry.get("links") or [])]
    doi = find_doi([_str(entry.get("prism_doi")), _str(entry.get("dc_identifier")), *urls, summary])
    pmid = find_pmid(urls, [guid, _str(entry.get("dc_identifier")), summary])
    url = canonical_url(link)
    return Item(
        item_id=item_id(doi=doi, pmid=pmid, url=url, guid=guid, source_id=source.id, title=title),
        source_id=source.id,
        source_title=source.title or clean_title(_str(feed.get("title"))),
        title=title,
        summary=summary,
        url=url,
        doi=doi,
        pmid=pmid,
        guid=guid,
        authors=_authors(entry),
        published_at=_date(entry, "published", "created", "prism_publicationdate", "dc_date", "updated"),
        updated_at=_date(entry, "updated"),
        publisher=_journal(entry, title) or source.publisher or clean_title(_str(feed.get("title"))),
        language=_language(entry, feed, f"{title}. {summary}" if summary else title),
        content_type=_content_type(entry, source.content_type),
        content_hash=content_hash(title, summary),
    )


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _summary(entry: dict[str, Any]) -> str:
    candidates = [html_to_text(_str(entry.get("summary")))]
    candidates += [html_to_text(_str(c.get("value"))) for c in entry.get("content") or [] if isinstance(c, dict)]
    best = max(candidates, key=len)
    return best[:MAX_SUMMARY_CHARS]


def _untitled(summary: str, link: str) -> str:
    if summary:
        first = summary.split("\n", 1)[0]
        return first if len(first) <= _UNTITLED_CHARS else first[: _UNTITLED_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return link


def _authors(entry: dict[str, Any]) -> list[str]:
    names = [_str(a.get("name")) for a in entry.get("authors") or [] if isinstance(a, dict)]
    if not any(names) and _str(entry.get("author")):
        names = [_str(entry.get("author"))]
    out: list[str] = []
    for name in names:
        # Some feeds (Wiley) put every author in one element, one per line.
        out += [part.strip().rstrip(",").strip() for part in strip_bidi_controls(name).split("\n")]
    return [n for n in out if n]


def _date(entry: dict[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        # dict.get, not entry.get: feedparser's own get maps a missing 'updated' to 'published' with a warning.
        parsed = dict.get(entry, f"{key}_parsed")
        if parsed:
            return datetime(*parsed[:6], tzinfo=timezone.utc)
        raw = _str(dict.get(entry, key))
        if raw:
            found = _parse_date_text(raw)
            if found:
                return found
    return None


def _parse_date_text(raw: str) -> datetime | None:
    """Dates feedparser could not read: RFC 822 with a foreign weekday ('Mi, 30 Jun 2021 ...'), ISO."""
    text = raw.split(",", 1)[1].strip() if "," in raw[:5] else raw
    candidates = []
    try:
        candidates.append(email.utils.parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        candidates.append(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    for found in candidates:
        if found is not None:
            return found if found.tzinfo else found.replace(tzinfo=timezone.utc)
    return None


def _journal(entry: dict[str, Any], title: str) -> str:
    source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
    for value in (entry.get("dc_source"), entry.get("prism_publicationtitle"), entry.get("prism_publicationname")):
        name = clean_title(_str(value))
        if name and name != title:
            return name
    return clean_title(_str(source.get("title")))


def _language(entry: dict[str, Any], feed: dict[str, Any], text: str) -> str | None:
    detail = entry.get("title_detail") if isinstance(entry.get("title_detail"), dict) else {}
    declared = _language_code(entry.get("language")) or _language_code(detail.get("language"))
    return item_language(declared, _language_code(feed.get("language")), text)


def _language_code(raw: Any) -> str | None:
    code = _str(raw).replace("_", "-").split("-")[0].lower()
    return code if len(code) == 2 and code.isascii() and code.isalpha() else None


_TYPE_WORDS = {"guideline": ContentType.guideline, "guidance": ContentType.guideline,
               "safety alert": ContentType.safety_alert, "policy": ContentType.policy, "news": ContentType.news}


def _content_type(entry: dict[str, Any], default: ContentType) -> ContentType:
    """The source's type, unless a general source labels this entry as a guideline, alert, policy or news."""
    if default not in (ContentType.journal_article, ContentType.other):
        return default
    for tag in entry.get("tags") or []:
        term = _str(tag.get("term") if isinstance(tag, dict) else "").lower()
        if term in _TYPE_WORDS:
            return _TYPE_WORDS[term]
    return default
