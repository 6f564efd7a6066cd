"""Example papers: a librarian names them by DOI, PMID or URL; their title and abstract come
from PubMed or Crossref, so that "more like this" works on the paper itself.

Each reference is one row of `example_papers`, shared by every profile that names it. Saving a
profile queues the references not yet known (status `pending`) in the same transaction, and the
profile's ProfileChanged carries the texts already resolved (an empty text for the others, which
classify then looks for among the items it has seen). The subscriptions app resolves pending
papers in the background (`resolve_due`): a PMID through PubMed's E-utilities, a DOI through
PubMed when it holds the paper (its abstracts are the fuller) and else Crossref. Each profile
naming a newly resolved paper is published again, at a new version, with the paper's text.

A paper neither service knows is `not_found` (the librarian sees it beside the example). A
service that fails, answers slowly or answers too much is `unavailable` and tried again later,
with back-off, up to MAX_ATTEMPTS (then `failed`). A URL is not fetched (`by_url`): classify
matches it against the items it has seen; a doi.org or PubMed link is read as its DOI or PMID.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
import nh3
from defusedxml import ElementTree
from sqlalchemy import String, cast
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.common.papers import canonical_ref, clean_space, paper_text
from services.subscriptions.models import ExamplePaper, ProfileRow, Subscriber, now

log = logging.getLogger(__name__)

PENDING, RESOLVED, NOT_FOUND, UNAVAILABLE, FAILED, BY_URL = (
    "pending", "resolved", "not_found", "unavailable", "failed", "by_url")
#: Attempts before a paper whose service keeps failing is given up, and the back-off bounds.
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=5)
LAST_RETRY = timedelta(hours=12)
#: The largest answer read from either service; a paper's record is a few kilobytes.
MAX_RESPONSE_BYTES = 2_000_000
TITLE_MAX, ABSTRACT_MAX = 1000, 8000

_BLOCK = re.compile(r"</?(?:jats:)?(?:p|title|sec|list-item|break|br)\b[^>]*>", re.IGNORECASE)


class PaperNotFound(Exception):
    """The service answered, and does not know the paper."""


class ServiceUnavailable(Exception):
    """The service could not answer now (down, slow, refused, or an answer too large or garbled)."""


@dataclass(frozen=True)
class Paper:
    title: str
    abstract: str
    source: str  # "pubmed" | "crossref"

    @property
    def text(self) -> str:
        return paper_text(self.title, self.abstract)


# --- the two services -------------------------------------------------------------------------


def parse_pubmed(xml: bytes | str) -> dict[str, Paper]:
    """PubMed efetch XML: each article's title and abstract by PMID (structured abstracts joined)."""
    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # malformed, or entity tricks refused by defusedxml
        raise ServiceUnavailable(f"PubMed answered XML that cannot be read: {exc}") from exc
    out: dict[str, Paper] = {}
    for article in root.iter("PubmedArticle"):
        pmid = (article.findtext("MedlineCitation/PMID") or "").strip()
        node = article.find("MedlineCitation/Article")
        if not pmid or node is None:
            continue
        title_node = node.find("ArticleTitle")
        title = "".join(title_node.itertext()) if title_node is not None else ""
        abstract = " ".join("".join(part.itertext()).strip() for part in node.findall("Abstract/AbstractText"))
        out[pmid] = Paper(clean_space(title)[:TITLE_MAX], clean_space(abstract)[:ABSTRACT_MAX], "pubmed")
    return out


def parse_crossref(data: dict) -> Paper:
    """A Crossref work: its title and its abstract (JATS markup stripped)."""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        raise ServiceUnavailable("Crossref answered without a work")
    titles = message.get("title") or []
    title = _markup_text(titles[0]) if isinstance(titles, list) and titles and isinstance(titles[0], str) else ""
    raw = message.get("abstract") if isinstance(message.get("abstract"), str) else ""
    abstract = re.sub(r"^\s*abstract\b[:.]?\s*", "", _markup_text(raw), flags=re.IGNORECASE)
    if not title and not abstract:
        raise PaperNotFound("Crossref has neither a title nor an abstract for it")
    return Paper(clean_space(title)[:TITLE_MAX], abstract[:ABSTRACT_MAX], "crossref")


def _markup_text(raw: str) -> str:
    """Plain text of a JATS or HTML fragment: blocks kept apart, scripts and styles dropped."""
    spaced = _BLOCK.sub(" ", raw)
    return clean_space(html.unescape(nh3.clean(spaced, tags=set())))


class PaperResolver:
    """Title and abstract of a paper by PMID or DOI, from PubMed's E-utilities and Crossref."""

    def __init__(self, pubmed_url: str, crossref_url: str, contact_email: str = "", api_key: str = "",
                 timeout_s: float = 10.0, client: httpx.Client | None = None) -> None:
        self.pubmed_url, self.crossref_url = pubmed_url.rstrip("/"), crossref_url.rstrip("/")
        self.contact_email, self.api_key = contact_email, api_key
        # NCBI allows 3 requests a second without a key and 10 with one
        self._eutils_gap = 0.1 if api_key else 0.34
        self._eutils_next = 0.0
        self._client = client or httpx.Client(
            timeout=timeout_s, follow_redirects=True, max_redirects=3,
            headers={"User-Agent": "Horizon evidence alerts" + (f" (mailto:{contact_email})" if contact_email else "")})

    def close(self) -> None:
        self._client.close()

    def resolve(self, ref: str) -> Paper:
        ref = canonical_ref(ref)
        if ref.startswith("pmid:"):
            return self._pubmed(ref[5:])
        if ref.startswith("doi:"):
            doi = ref[4:]
            pmid = self._pmid_for_doi(doi)
            if pmid:
                return self._pubmed(pmid)
            return self._crossref(doi)
        raise PaperNotFound("only DOIs and PMIDs are looked up")

    def _get(self, url: str, params: dict[str, str]) -> httpx.Response:
        try:
            with self._client.stream("GET", url, params=params) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise ServiceUnavailable(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            raise PaperNotFound("not known there")
        if response.status_code >= 400:
            raise ServiceUnavailable(f"HTTP {response.status_code}")
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body))

    def _eutils_get(self, path: str, params: dict[str, str]) -> httpx.Response:
        wait = self._eutils_next - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._eutils_next = time.monotonic() + self._eutils_gap
        return self._get(f"{self.pubmed_url}/{path}", self._eutils_params(**params))

    def _eutils_params(self, **params: str) -> dict[str, str]:
        params["tool"] = "horizon"
        if self.contact_email:
            params["email"] = self.contact_email
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def _pmid_for_doi(self, doi: str) -> str | None:
        response = self._eutils_get("esearch.fcgi", {"db": "pubmed", "term": f"{doi}[doi]", "retmode": "json"})
        try:
            ids = response.json()["esearchresult"]["idlist"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailable("PubMed's search answered without an id list") from exc
        return str(ids[0]) if len(ids) == 1 and str(ids[0]).isdigit() else None

    def _pubmed(self, pmid: str) -> Paper:
        response = self._eutils_get("efetch.fcgi", {"db": "pubmed", "id": pmid, "retmode": "xml"})
        paper = parse_pubmed(response.content).get(pmid)
        if paper is None or not (paper.title or paper.abstract):
            raise PaperNotFound(f"PubMed has no record for PMID {pmid}")
        return paper

    def _crossref(self, doi: str) -> Paper:
        params = {"mailto": self.contact_email} if self.contact_email else {}
        response = self._get(f"{self.crossref_url}/works/{quote(doi, safe='')}", params)
        try:
            data = response.json()
        except ValueError as exc:
            raise ServiceUnavailable("Crossref answered something other than JSON") from exc
        return parse_crossref(data)


# --- the table --------------------------------------------------------------------------------


def track(session: Session, refs: Iterable[str]) -> None:
    """Queue the references not yet known, and those given up on (saving the profile again asks
    for another try), in the caller's transaction."""
    for ref in dict.fromkeys(canonical_ref(r) for r in refs):
        if not ref:
            continue
        row = session.get(ExamplePaper, ref)
        if row is None:
            try:
                with session.begin_nested():  # a concurrent save may queue the same paper first
                    session.add(ExamplePaper(ref=ref, status=PENDING if ref.startswith(("doi:", "pmid:")) else BY_URL))
            except IntegrityError:
                log.info("example paper queued by another transaction", extra={"ref": ref})
        elif row.status == FAILED:
            row.status, row.attempts, row.next_attempt_at, row.error = PENDING, 0, None, ""
            session.add(row)
    session.flush()


def texts(session: Session, refs: Sequence[str]) -> list[str]:
    """Each reference's title and abstract, aligned with `refs`; empty where not resolved."""
    out = []
    for ref in refs:
        row = session.get(ExamplePaper, canonical_ref(ref))
        out.append(paper_text(row.title, row.abstract) if row is not None and row.status == RESOLVED else "")
    return out


def statuses(session: Session, refs: Sequence[str]) -> list[ExamplePaper]:
    """The row of each reference (a pending one where none exists yet), aligned with `refs`."""
    return [session.get(ExamplePaper, canonical_ref(r)) or ExamplePaper(ref=canonical_ref(r), status=PENDING)
            for r in refs]


def due(session: Session, at: datetime, limit: int) -> list[str]:
    """References to look up now: pending ones, and unavailable ones whose retry time has come."""
    query = (select(ExamplePaper.ref)
             .where(ExamplePaper.status.in_([PENDING, UNAVAILABLE]))
             .where((ExamplePaper.next_attempt_at.is_(None)) | (ExamplePaper.next_attempt_at <= at))
             .order_by(ExamplePaper.created_at, ExamplePaper.ref).limit(limit))
    return list(session.exec(query).all())


def subscribers_naming(session: Session, ref: str) -> list[Subscriber]:
    """The subscribers whose profile names the paper, in any form (narrowed in SQL on the JSON
    text by the DOI or PMID itself, then matched exactly)."""
    core = ref.split(":", 1)[1] if ref.startswith(("doi:", "pmid:")) else ref
    pattern = "%" + core.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.exec(select(ProfileRow).where(cast(ProfileRow.examples, String).ilike(pattern, escape="\\"))).all()
    ids = [r.subscriber_id for r in rows if any(canonical_ref(e) == ref for e in r.examples)]
    return [s for s in (session.get(Subscriber, i) for i in ids) if s is not None]


def _retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LAST_RETRY)


def record_result(session: Session, ref: str, result: Paper | Exception, at: datetime) -> bool:
    """Store one lookup's outcome; True when the paper is newly resolved."""
    row = session.get(ExamplePaper, ref)
    if row is None or row.status not in (PENDING, UNAVAILABLE):
        return False
    row.attempts += 1
    row.updated_at = at
    if isinstance(result, Paper):
        row.status, row.title, row.abstract, row.source, row.error = RESOLVED, result.title, result.abstract, \
            result.source, ""
        row.next_attempt_at = None
    elif isinstance(result, PaperNotFound):
        row.status, row.error, row.next_attempt_at = NOT_FOUND, f"not found in PubMed or Crossref: {result}", None
    elif row.attempts >= MAX_ATTEMPTS:
        row.status, row.error, row.next_attempt_at = FAILED, f"gave up after {row.attempts} attempts: {result}", None
    else:
        row.status, row.error = UNAVAILABLE, str(result)[:500]
        row.next_attempt_at = at + _retry_delay(row.attempts)
    session.add(row)
    return row.status == RESOLVED
