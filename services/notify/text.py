"""Plain-text hygiene for feed content shown in e-mails: tags out, sentences split, links vetted.

Item titles and summaries are meant to be plain text already, but a feed can smuggle markup
through; everything here is pure and is applied before rendering (the HTML templates escape too).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

_BLOCK_WITH_BODY = re.compile(r"<\s*(script|style|iframe|object|noscript)\b.*?(<\s*/\s*\1\s*>|$)", re.I | re.S)
_TAG = re.compile(r"<[^<>]*>|<[a-zA-Z/!][^<>]*$")
_SPACE = re.compile(r"\s+")
_INITIAL = re.compile(r"(^|[\s(])[A-Z]\.$")  # "A. Smith", "B. edulis": an initial, not a sentence's end
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "approx.", "Dr.", "Prof.", "Fig.", "Figs.", "No.", "Vol.", "pp.",
                  "ca.", "cf.", "Jr.", "Ltd.", "Inc.", "Mt.", "Mts.", "St.",
                  # taxonomy: "Russula subg. Heterophyllidia", "M. ser. Supertextae"
                  "sect.", "subsect.", "subg.", "ser.", "subsp.", "ssp.", "var.", "spp.", "cv.")
# an abbreviation ends the piece as a word of its own ("laser." does not end in "ser.")
_ABBREVIATION_END = re.compile(r"(?:^|[\s(\[])(?:" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")$")
# a sentence starts with a capital, a digit or a quote; not with "(": "sp. nov. (type locality...)"
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'])")


def clean_text(text: str | None) -> str:
    """Feed text as safe plain text: scripts and tags removed, entities decoded, spaces collapsed."""
    if not text:
        return ""
    text = _BLOCK_WITH_BODY.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    # a second pass: entities may have decoded into tags (&lt;script&gt;)
    text = _BLOCK_WITH_BODY.sub(" ", text)
    text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def sentences(text: str) -> list[str]:
    """Split plain text into sentences, not breaking after common abbreviations."""
    parts: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if parts and (_ABBREVIATION_END.search(parts[-1]) or _INITIAL.search(parts[-1])):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def safe_url(url: str | None) -> str:
    """The URL if it is an absolute http(s) link, else '' (no javascript:, data:, relative links)."""
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    if any(ch in url for ch in "\"'<> \n\r\t"):
        return ""
    return url
