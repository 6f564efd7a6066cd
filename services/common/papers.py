"""How a paper is named and read, the same in every service: its reference ('doi:…' in lower
case, 'pmid:…', or a URL) and the one title-plus-abstract text an item or an example paper is
embedded from. Pure functions."""

from __future__ import annotations

import re

#: A DOI inside a link or text (up to the end of a URL path).
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s?#&\"'<>]+)", re.IGNORECASE)
#: A PubMed article link and its PMID.
PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/(\d{1,9})\b")
_DOI_ORG = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def clean_space(text: str | None) -> str:
    """Runs of whitespace as one space, trimmed."""
    return _SPACE.sub(" ", text or "").strip()


def paper_text(title: str | None, abstract: str | None = "") -> str:
    """Title plus abstract, whitespace-normalised: the one text a paper is embedded from."""
    title, abstract = clean_space(title), clean_space(abstract)
    if title and abstract:
        return f"{title}{' ' if title.endswith(('.', '?', '!', ':')) else '. '}{abstract}"
    return title or abstract


def doi_in(text: str) -> str | None:
    """The DOI a link or text carries, in lower case."""
    m = DOI.search(text)
    return m.group(1).rstrip(".,;:").lower() if m else None


def canonical_ref(ref: str) -> str:
    """The one key of a reference: 'doi:' in lower case, 'pmid:', or the URL as given, a doi.org
    or PubMed link read as its DOI or PMID."""
    ref = ref.strip()
    low = ref.lower()
    if low.startswith("doi:"):
        return "doi:" + low[4:].strip()
    if low.startswith("pmid:"):
        return "pmid:" + low[5:].strip()
    if m := PUBMED_URL.search(ref):
        return f"pmid:{m.group(1)}"
    if _DOI_ORG.match(ref) and (doi := doi_in(ref)):
        return f"doi:{doi}"
    return ref
