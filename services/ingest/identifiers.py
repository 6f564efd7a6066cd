"""DOI and PMID extraction, and canonical URLs with tracking parameters stripped. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# A DOI is "10.<registrant>/<suffix>"; the suffix ends at whitespace, quotes or angle brackets.
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_DOI_TRAILING = ".,;:)]}"
_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/(\d{1,9})\b")
_PMID_PREFIXED = re.compile(r"\b(?:pmid|pubmed)\s*[:=]?\s*(\d{1,9})\b", re.IGNORECASE)

#: Query parameters that only track the reader: dropped from canonical URLs.
TRACKING_PARAMS = frozenset({
    "af", "dgcid", "rss", "rft_dat", "fbclid", "gclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi",
    "feed", "from", "ref", "src", "cmpid", "campaign",
})
#: Hosts whose every query parameter is tracking (PubMed's RSS adds fc, ff, v and utm_*).
_QUERY_FREE_HOSTS = frozenset({"pubmed.ncbi.nlm.nih.gov"})


def _trim_doi(raw: str) -> str:
    doi = raw.split("?")[0].split("#")[0].split("&")[0]
    while doi and doi[-1] in _DOI_TRAILING:
        # Keep a closing bracket that closes one inside the DOI, e.g. 10.1002/(sici)1097-0177(199905)
        if doi[-1] == ")" and doi.count("(") >= doi.count(")"):
            break
        doi = doi[:-1]
    return doi.lower()


def find_doi(texts: Iterable[str | None]) -> str | None:
    """The first DOI in any of the texts, in order of trust: lower case, no resolver prefix."""
    for text in texts:
        if not text:
            continue
        match = _DOI.search(unquote(text) if "%2f" in text.lower() else text)
        if match:
            doi = _trim_doi(match.group(1))
            if "/" in doi and len(doi.split("/", 1)[1]) > 0:
                return doi
    return None


def find_pmid(urls: Iterable[str | None], texts: Iterable[str | None] = ()) -> str | None:
    """A PubMed id from PubMed links, then from 'PMID: n' or 'pubmed:n' in identifiers and text."""
    for url in urls:
        if url:
            match = _PUBMED_URL.search(url)
            if match:
                return match.group(1)
    for text in texts:
        if text:
            match = _PMID_PREFIXED.search(text)
            if match:
                return match.group(1)
    return None


def canonical_url(url: str | None) -> str:
    """The link without tracking parameters or fragment, scheme and host lower-cased, query sorted."""
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return url
    if parts.hostname in _QUERY_FREE_HOSTS:
        url = parts._replace(query="", fragment="").geturl()
    else:
        url = url_query_cleaner(url, parameterlist=_tracking_in(parts.query), remove=True)
    return canonicalize_url(url, keep_fragments=False)


def _tracking_in(query: str) -> list[str]:
    names = [pair.split("=", 1)[0] for pair in query.split("&") if pair]
    return [n for n in names if n.lower() in TRACKING_PARAMS or n.lower().startswith("utm_")]
