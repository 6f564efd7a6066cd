"""Stable identity of a work and the keys used to spot the same work across sources. Pure."""

from __future__ import annotations

import hashlib
import unicodedata
from difflib import SequenceMatcher


def item_id(*, doi: str | None, pmid: str | None, url: str, guid: str | None, source_id: str, title: str) -> str:
    """'doi:' else 'pmid:' else 'url:' (canonical) else 'guid:<source>:' else 'hash:' of title and source."""
    if doi:
        return f"doi:{doi}"
    if pmid:
        return f"pmid:{pmid}"
    if url:
        return f"url:{url}"
    if guid:
        return f"guid:{source_id}:{guid}"
    return "hash:" + hashlib.sha256(f"{source_id}\x1f{title}".encode()).hexdigest()[:32]


def content_hash(title: str, summary: str) -> str:
    """Hash of what a reader sees; a change under the same id marks a revision."""
    return hashlib.sha256(f"{title}\x1f{summary}".encode()).hexdigest()


def title_key(title: str) -> str:
    """A title reduced for comparison: accents folded, case folded, only letters and digits, single spaces."""
    folded = unicodedata.normalize("NFKD", title).casefold()
    chars = (c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    return " ".join("".join(chars).split())


#: Titles shorter than this (as keys) are too generic to merge across sources ("Editorial", "Erratum").
MIN_KEY_CHARS = 30
#: Length of the key prefix used to find near-duplicate candidates in the store.
PREFIX_CHARS = 20


def title_prefix(key: str) -> str:
    """The bucket a title key is filed under for near-duplicate lookup ('' if too short to merge)."""
    return key[:PREFIX_CHARS] if len(key) >= MIN_KEY_CHARS else ""


def title_similarity(a: str, b: str) -> float:
    """Similarity of two title keys in [0, 1] (difflib's ratio)."""
    return SequenceMatcher(None, a, b, autojunk=False).ratio()
