"""What an item is to its reader: a paper, or a notice about one; free to read, or worth a request.

Corrections, errata and retraction notices, and letters, replies and comments come through the
same journal feeds as papers but are not new evidence: a digest labels them and shows them apart,
after the papers (or leaves them out: HORIZON_NOTIFY_CORRECTIONS_AND_LETTERS). A full-text request
asks the library to get a paper the reader cannot open: it is offered for journal articles only,
never for guidance, alerts, policy, news or reports, and not where the article is free to read.
Pure: titles, links and ids in, labels out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from contracts import ContentType, EvidenceType, Item

CORRECTION = "Correction"
LETTER = "Letter or reply"

_CORRECTION = re.compile(
    r"^\s*\[?\s*(?:corrigendum|corrigenda|erratum|errata|correction|corrections|author correction|publisher correction|"
    r"retraction(?: note| notice)?|notice of retraction|expression of concern|retracted)\b", re.I)
_LETTER = re.compile(
    r"^\s*\[?\s*(?:(?:reply|response|in reply|in response|authors?'? reply|the authors reply|letters?|"
    r"correspondence|comment|commentary on)\b|re\s*:)", re.I)

#: Evidence that is not a journal article: no full-text request (free, or not the library's to fetch).
_NOT_ARTICLES = frozenset({
    EvidenceType.guideline, EvidenceType.policy, EvidenceType.safety_alert, EvidenceType.news, EvidenceType.report,
})
#: Publishers and hosts whose articles are all free to read (open-access journals, repositories, preprints).
_FREE_DOI_PREFIXES = (
    "10.1371/",  # PLOS
    "10.1186/",  # BioMed Central
    "10.3389/",  # Frontiers
    "10.3390/",  # MDPI
    "10.7554/",  # eLife
    "10.3897/",  # Pensoft
    "10.1136/bmjopen", "10.1136/bmjoq", "10.1136/bmjgh",
    "10.1101/",  # bioRxiv and medRxiv
    "10.2196/",  # JMIR
    "10.1002/14651858",  # Cochrane reviews: free to read in England under the national licence
)
_FREE_HOSTS = (
    "ncbi.nlm.nih.gov", "pmc.ncbi.nlm.nih.gov", "europepmc.org", "biorxiv.org", "medrxiv.org", "plos.org",
    "biomedcentral.com", "frontiersin.org", "mdpi.com", "elifesciences.org", "bmjopen.bmj.com", "doaj.org",
    "arxiv.org", "zenodo.org", "journals.plos.org", "wellcomeopenresearch.org", "f1000research.com",
)
_FREE_WORDS = re.compile(r"\b(open access|free full text|free pmc article|freely available|free to read)\b", re.I)


def notice_kind(title: str) -> str:
    """'Correction' or 'Letter or reply' for a notice about a paper; '' for anything else."""
    if _CORRECTION.search(title):
        return CORRECTION
    if _LETTER.search(title):
        return LETTER
    return ""


def free_to_read(item: Item) -> bool:
    """Whether anyone can read the article without a subscription, as far as its DOI, link or text say."""
    if item.doi and item.doi.lower().startswith(_FREE_DOI_PREFIXES):
        return True
    host = urlsplit(item.url).netloc.lower() if item.url else ""
    if host and any(host == h or host.endswith("." + h) for h in _FREE_HOSTS):
        if "ncbi.nlm.nih.gov" not in host or "/pmc/" in item.url.lower() or host.startswith("pmc."):
            return True
    return bool(_FREE_WORDS.search(item.summary or ""))


def offers_full_text(item: Item, evidence_type: EvidenceType) -> bool:
    """A full-text request is worth offering: a journal article that is not free to read."""
    if evidence_type in _NOT_ARTICLES or item.content_type != ContentType.journal_article:
        return False
    return not free_to_read(item)
