"""OPML import and export of sources (what feed readers export), with Horizon's own attributes.

Each `<outline xmlUrl="...">` is a source. Its content type comes from, in order:
`horizon:contentType="guideline"` (namespace `https://horizon.nhs/opml`), then any token of
`category="..."` naming a content type (e.g. `category="guideline"` or `"/nhs/guideline"`), then
an enclosing folder outline whose text names one, else `journal_article`. Optional attributes:
`horizon:id`, `horizon:publisher`, `horizon:pollInterval` (seconds), `horizon:enabled`.

Documents are read by the hardened parser (`xmlsafe`): at most MAX_OPML_BYTES, no entity
declarations in any encoding. Titles and publishers lose control and bidi-override characters
and are cut to MAX_TEXT_CHARS.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from contracts import ContentType
from services.ingest import xmlsafe
from services.ingest.text import strip_bidi_controls

NS = "https://horizon.nhs/opml"
MAX_OPML_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 500
_Q = f"{{{NS}}}"
_TYPES = {t.value: t for t in ContentType} | {"guidelines": ContentType.guideline, "guidance": ContentType.guideline,
                                               "journal": ContentType.journal_article}


@dataclass(frozen=True)
class OpmlOutline:
    """One feed outline as read from OPML (URLs exactly as written, maybe relative)."""

    xml_url: str
    title: str = ""
    content_type: ContentType = ContentType.journal_article
    publisher: str = ""
    source_id: str | None = None
    poll_interval_s: int | None = None
    enabled: bool = True


class OpmlError(ValueError):
    """The OPML document cannot be read."""


def _content_type(outline: ET.Element, folder_type: ContentType | None) -> ContentType:
    explicit = (outline.get(f"{_Q}contentType") or "").strip().lower()
    if explicit in _TYPES:
        return _TYPES[explicit]
    for token in (outline.get("category") or "").replace("/", ",").split(","):
        if token.strip().lower() in _TYPES:
            return _TYPES[token.strip().lower()]
    return folder_type or ContentType.journal_article


def parse_opml(data: bytes) -> list[OpmlOutline]:
    """Every feed outline of an OPML document, folders flattened; raises OpmlError if not OPML."""
    try:
        root = xmlsafe.parse(data, MAX_OPML_BYTES)
    except xmlsafe.XmlRefused as exc:
        raise OpmlError(str(exc)) from exc
    if root.tag.lower() != "opml" or root.find("body") is None:
        raise OpmlError("not an OPML document (no <opml><body>)")
    found: list[OpmlOutline] = []
    _walk(root.find("body"), None, found)  # type: ignore[arg-type]
    return found


def _walk(parent: ET.Element, folder_type: ContentType | None, found: list[OpmlOutline]) -> None:
    for outline in parent.findall("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            label = (outline.get("text") or outline.get("title") or "").strip().lower()
            _walk(outline, _TYPES.get(label, folder_type), found)
            continue
        interval = (outline.get(f"{_Q}pollInterval") or "").strip()
        found.append(OpmlOutline(
            xml_url=url,
            title=_clean(outline.get("title") or outline.get("text") or ""),
            content_type=_content_type(outline, folder_type),
            publisher=_clean(outline.get(f"{_Q}publisher") or ""),
            source_id=(outline.get(f"{_Q}id") or "").strip() or None,
            poll_interval_s=int(interval) if interval.isdigit() else None,
            enabled=(outline.get(f"{_Q}enabled") or "true").strip().lower() not in ("false", "0", "no"),
        ))


def _clean(value: str) -> str:
    """One line of at most MAX_TEXT_CHARS, without control or bidi-override characters."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in strip_bidi_controls(value))
    return " ".join(text.split())[:MAX_TEXT_CHARS]


def render_opml(outlines: list[OpmlOutline], title: str = "Horizon sources") -> str:
    """An OPML 2.0 document of the outlines, Horizon attributes included, readable by any feed reader."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<opml version="2.0" xmlns:horizon="{NS}">',
             f"  <head><title>{_text(title)}</title></head>", "  <body>"]
    for o in outlines:
        attrs = {"type": "rss", "text": o.title or o.xml_url, "title": o.title or o.xml_url, "xmlUrl": o.xml_url,
                 "category": o.content_type.value, "horizon:contentType": o.content_type.value,
                 "horizon:enabled": "true" if o.enabled else "false"}
        if o.source_id:
            attrs["horizon:id"] = o.source_id
        if o.publisher:
            attrs["horizon:publisher"] = o.publisher
        if o.poll_interval_s:
            attrs["horizon:pollInterval"] = str(o.poll_interval_s)
        lines.append("    <outline " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
