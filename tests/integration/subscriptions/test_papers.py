"""Example papers looked up over real HTTP, on both databases: a local server answers as PubMed's
E-utilities and Crossref do (their URL layout, parameters and formats), with a paper each knows,
one neither knows, and the failures a real service has (down, slow, an answer far too large)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from sqlmodel import select

from contracts import ProfileChanged
from services.subscriptions import papers, usecases
from services.subscriptions.models import ExamplePaper, OutboxRow, now
from services.subscriptions.schemas import SubscriberCreate, SubscriberUpdate

PUBMED = {
    "19717844": ("Dabigatran versus warfarin in patients with atrial fibrillation.",
                 "Warfarin reduces the risk of stroke in patients with atrial fibrillation."),
    "21870978": ("Apixaban versus warfarin in patients with atrial fibrillation.",
                 "Vitamin K antagonists are highly effective in preventing stroke."),
}
DOI_TO_PMID = {"10.1056/nejmoa0905561": "19717844"}
CROSSREF = {"10.9999/falls.2024.1": ("Exercise to prevent falls in care homes",
                                     "<jats:p>Exercise reduced the rate of falls in care home residents.</jats:p>")}


class Fake:
    down: set[str] = set()
    slow: set[str] = set()
    huge: set[str] = set()
    requests: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first (the slow case)
            pass

    def do_GET(self):
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        Fake.requests.append(self.path)
        key = q.get("id") or q.get("term", "").removesuffix("[doi]") or unquote(url.path.rsplit("/works/", 1)[-1])
        if key in Fake.down:
            return self._send(503, b"Service Unavailable", "text/plain")
        if key in Fake.slow:
            time.sleep(1.5)
        if key in Fake.huge:
            return self._send(200, b"<PubmedArticleSet>" + b" " * 3_000_000 + b"</PubmedArticleSet>", "text/xml")
        if url.path.endswith("/esearch.fcgi"):
            assert q.get("db") == "pubmed" and q.get("tool") == "horizon"
            ids = [DOI_TO_PMID[key]] if key in DOI_TO_PMID else []
            body = {"header": {"type": "esearch"}, "esearchresult": {"count": str(len(ids)), "idlist": ids}}
            return self._send(200, json.dumps(body).encode(), "application/json")
        if url.path.endswith("/efetch.fcgi"):
            articles = "".join(
                f"<PubmedArticle><MedlineCitation><PMID Version=\"1\">{key}</PMID><Article><ArticleTitle>{t}"
                f"</ArticleTitle><Abstract><AbstractText>{a}</AbstractText></Abstract></Article></MedlineCitation>"
                f"</PubmedArticle>" for t, a in [PUBMED[key]] if key in PUBMED)
            return self._send(200, f"<?xml version=\"1.0\" ?><PubmedArticleSet>{articles}</PubmedArticleSet>".encode(),
                              "text/xml")
        if "/works/" in url.path:
            if key not in CROSSREF:
                return self._send(404, b"Resource not found.", "text/plain")
            title, abstract = CROSSREF[key]
            body = {"status": "ok", "message-type": "work", "message": {"DOI": key, "title": [title], "abstract": abstract}}
            return self._send(200, json.dumps(body).encode(), "application/json")
        return self._send(404, b"no such path", "text/plain")


@pytest.fixture
def server():
    Fake.down, Fake.slow, Fake.huge, Fake.requests = set(), set(), set(), []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def resolver(server):
    r = papers.PaperResolver(f"{server}/eutils", f"{server}/crossref", contact_email="library@example.nhs.uk",
                             timeout_s=0.5)
    yield r
    r.close()


def create(sessions, world, examples):
    with sessions() as session:
        sub = usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=world.a.org_id, name="Dr Asha Khan", email="asha.khan@example.nhs.uk",
            interests=["Anticoagulation for stroke prevention in atrial fibrillation"], examples=examples))
        return sub.id


def events(sessions, subscriber_id) -> list[ProfileChanged]:
    with sessions() as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.key == subscriber_id).order_by(OutboxRow.id)).all()
        return [ProfileChanged.model_validate_json(r.payload) for r in rows]


def status(sessions, ref) -> ExamplePaper:
    with sessions() as session:
        return session.get(ExamplePaper, ref)


def test_examples_are_looked_up_and_the_profile_republished_with_their_texts(sessions, world, resolver):
    examples = ["pmid:21870978", "doi:10.1056/NEJMoa0905561", "doi:10.9999/falls.2024.1", "doi:10.9999/unknown",
                "https://www.example.org/some-paper"]
    sid = create(sessions, world, examples)
    first = events(sessions, sid)
    assert [e.version for e in first] == [1]
    assert first[0].profile.example_texts == ["", "", "", "", ""]

    assert usecases.resolve_example_papers(sessions, resolver.resolve) == 3
    latest = events(sessions, sid)[-1]
    assert latest.version == 2  # one republish for the three papers found
    texts = latest.profile.example_texts
    assert texts[0] == "Apixaban versus warfarin in patients with atrial fibrillation. Vitamin K antagonists are " \
                       "highly effective in preventing stroke."
    assert texts[1].startswith("Dabigatran versus warfarin")  # the DOI found in PubMed, with its abstract
    assert texts[2] == "Exercise to prevent falls in care homes. Exercise reduced the rate of falls in care home residents."
    assert texts[3:] == ["", ""]
    assert latest.profile.examples == examples

    assert status(sessions, "doi:10.9999/unknown").status == papers.NOT_FOUND
    assert "not found in PubMed or Crossref" in status(sessions, "doi:10.9999/unknown").error
    assert status(sessions, "https://www.example.org/some-paper").status == papers.BY_URL
    assert status(sessions, "doi:10.1056/nejmoa0905561").source == "pubmed"
    assert status(sessions, "doi:10.9999/falls.2024.1").source == "crossref"
    assert all("tool=horizon" in r and "email=library%40example.nhs.uk" in r for r in Fake.requests if "fcgi" in r)

    # Nothing is due any more: no request, no new version.
    Fake.requests.clear()
    assert usecases.resolve_example_papers(sessions, resolver.resolve) == 0
    assert Fake.requests == [] and events(sessions, sid)[-1].version == 2

    # Another subscriber naming a known paper gets its text straight away, without a lookup.
    with sessions() as session:
        other = usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=world.a.org_id, name="Dr B", email="b@example.nhs.uk", examples=["pmid:21870978"]))
    assert events(sessions, other.id)[0].profile.example_texts[0].startswith("Apixaban")

    # The API shows each example's lookup.
    with sessions() as session:
        pub = usecases.public(session, usecases.get_subscriber(session, None, sid))
    assert [(p.ref, p.status) for p in pub.example_papers] == [
        ("pmid:21870978", "resolved"), ("doi:10.1056/nejmoa0905561", "resolved"),
        ("doi:10.9999/falls.2024.1", "resolved"), ("doi:10.9999/unknown", "not_found"),
        ("https://www.example.org/some-paper", "by_url")]
    assert pub.example_papers[0].title.startswith("Apixaban")


def test_a_paper_named_by_its_doi_org_or_pubmed_link_is_looked_up_and_republished(sessions, world, resolver):
    sid = create(sessions, world, ["https://doi.org/10.1056/NEJMoa0905561", "https://pubmed.ncbi.nlm.nih.gov/21870978/"])
    assert usecases.resolve_example_papers(sessions, resolver.resolve) == 2
    latest = events(sessions, sid)[-1]
    assert latest.version == 2
    assert latest.profile.example_texts[0].startswith("Dabigatran") and latest.profile.example_texts[1].startswith("Apixaban")


def test_a_service_that_fails_is_tried_again_later_then_given_up(sessions, world, resolver):
    Fake.down = {"10.9999/falls.2024.1"}
    Fake.slow = {"21870978"}
    Fake.huge = {"19717844"}
    sid = create(sessions, world, ["doi:10.9999/falls.2024.1", "pmid:21870978", "pmid:19717844"])
    t0 = now()
    assert usecases.resolve_example_papers(sessions, resolver.resolve, at=t0) == 0
    for ref, why in (("doi:10.9999/falls.2024.1", "HTTP 503"), ("pmid:21870978", "Timeout"),
                     ("pmid:19717844", "larger than")):
        row = status(sessions, ref)
        assert row.status == papers.UNAVAILABLE and why in row.error and row.attempts == 1
    assert events(sessions, sid)[-1].version == 1

    # Not due again until the back-off has passed.
    Fake.down, Fake.slow, Fake.huge = set(), set(), set()
    assert usecases.resolve_example_papers(sessions, resolver.resolve, at=t0 + timedelta(minutes=1)) == 0
    assert status(sessions, "pmid:21870978").attempts == 1
    assert usecases.resolve_example_papers(sessions, resolver.resolve, at=t0 + timedelta(minutes=6)) == 3
    latest = events(sessions, sid)[-1]
    assert latest.version == 2 and all(latest.profile.example_texts)

    # A service down for good: given up after MAX_ATTEMPTS, asked again when the profile is saved.
    Fake.down = {"1"}
    with sessions() as session:
        usecases.update_subscriber(session, None, sid, SubscriberUpdate(examples=["pmid:1"]))
    at = t0
    for _ in range(papers.MAX_ATTEMPTS):
        at += timedelta(days=1)
        usecases.resolve_example_papers(sessions, resolver.resolve, at=at)
    assert status(sessions, "pmid:1").status == papers.FAILED
    assert "gave up after" in status(sessions, "pmid:1").error
    with sessions() as session:
        usecases.update_subscriber(session, None, sid, SubscriberUpdate(interests=["Stroke prevention"]))
    assert status(sessions, "pmid:1").status == papers.PENDING


def test_two_saves_queueing_the_same_paper_at_once_both_succeed(engine, sessions, world):
    from sqlmodel import Session

    with Session(engine) as first, Session(engine) as second:
        papers.track(first, ["doi:10.1/same"])
        first.commit()
        # `second` started before the row existed: its own insert collides and is let go
        assert second.get(ExamplePaper, "doi:10.1/other") is None
        second.add(ExamplePaper(ref="doi:10.1/other"))
        second.flush()
        original_get = second.get
        second.get = lambda cls, key, **kw: None if key == "doi:10.1/same" else original_get(cls, key, **kw)
        papers.track(second, ["doi:10.1/same"])
        second.commit()
    assert status(sessions, "doi:10.1/same").status == papers.PENDING
    assert status(sessions, "doi:10.1/other") is not None


def test_pubmed_calls_are_spaced_to_its_rate_limit(server):
    stamps: list[float] = []

    def timed(request: httpx.Request) -> None:
        stamps.append(time.monotonic())

    client = httpx.Client(event_hooks={"request": [timed]}, timeout=5)
    resolver = papers.PaperResolver(f"{server}/eutils", f"{server}/crossref", client=client)
    for pmid in ("19717844", "21870978", "19717844"):
        resolver.resolve(f"pmid:{pmid}")
    resolver.close()
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(stamps) == 3 and min(gaps) >= 0.33  # no more than 3 a second without an API key


def test_librarians_see_the_papers_that_could_not_be_found_in_their_organisations(client, world, sessions, resolver):
    from .conftest import new_subscriber
    from .test_security import login

    mine = new_subscriber(client, world.a, examples=["doi:10.9999/typo", "pmid:21870978"])
    new_subscriber(client, world.b, email="other@beta.nhs.uk", examples=["doi:10.9999/typo"])
    usecases.resolve_example_papers(sessions, resolver.resolve)
    listed = client.get("/api/example-papers/unfound", headers=world.a.headers).json()
    assert listed == [{"ref": "doi:10.9999/typo", "status": "not_found", "error": listed[0]["error"],
                       "subscribers": [{"id": mine["id"], "name": "Dr Asha Khan"}]}]  # not the other trust's
    login(client, world.a.email)
    page = client.get("/subscribers").text
    assert "Example papers that could not be found (1)" in page and f'href="/subscribers/{mine["id"]}"' in page
