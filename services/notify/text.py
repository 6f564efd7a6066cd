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
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "approx.", "Dr.", "Fig.", "No.", "ca.", "cf.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[])")
_STRUCTURED_LABEL = re.compile(r"^(BACKGROUND|OBJECTIVES?|METHODS?|RESULTS?|CONCLUSIONS?|AIMS?|PURPOSE|INTRODUCTION)\s*:\s*", re.I)


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
        if parts and parts[-1].endswith(_ABBREVIATIONS):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def summarise(text: str | None, *, max_sentences: int = 3, soft_chars: int = 300, max_chars: int = 480) -> str:
    """Two or three sentences of a summary: a third only while short, trimmed at a word boundary."""
    text = _STRUCTURED_LABEL.sub("", clean_text(text))
    chosen: list[str] = []
    for sentence in sentences(text)[:max_sentences]:
        if len(chosen) >= 2 and len(" ".join(chosen)) + len(sentence) > soft_chars:
            break
        chosen.append(sentence)
    summary = " ".join(chosen)
    if len(summary) > max_chars:
        summary = summary[:max_chars].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return summary


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
