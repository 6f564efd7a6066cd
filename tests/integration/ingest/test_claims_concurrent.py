"""Two sources bringing the same works at the same instant, on real SQLite and PostgreSQL stores.

Two threads start each round together (a barrier) and ingest their source's feed: the same 50
works, in the same order (in one test after the previous round's works again: a re-poll). Each thread has a
store of its own, as two ingest processes sharing one database would (or both share one store,
as the pollers of one process do). Whatever the interleaving, each work is published once and
both sources are recorded as sightings of it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from services.ingest.store import SqlStore
from services.ingest.tables import Source
from services.ingest.usecases import ingest_feed

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
WORKS, ROUNDS = 50, 10
JOURNAL = Source(id="journal", url="https://j.example/rss")
PUBMED = Source(id="pubmed", url="https://p.example/rss")


@dataclass(frozen=True)
class Work:
    doi: str
    pmid: str
    title: str


def entry(work: Work, side: str, variant: str) -> str:
    """One work as the journal (`side` 'a') or the search feed ('b') carries it in this variant."""
    abstract = "The same abstract." if variant == "identical" else f"The abstract as source {side} words it."
    title, link, ids = work.title, f"https://j.example/{work.doi}", f"<dc:identifier>doi:{work.doi}</dc:identifier>"
    if side == "b":
        link = f"https://s.example/{work.doi}"
        if variant == "aliases":  # DOI and PMID
            link = f"https://pubmed.ncbi.nlm.nih.gov/{work.pmid}/"
        elif variant == "near_titles":  # PMID only, the title styled differently: found by title alone
            title, link, ids = work.title.upper() + ".", f"https://pubmed.ncbi.nlm.nih.gov/{work.pmid}/", ""
    return f"<item><title>{title}</title><link>{link}</link><description>{abstract}</description>{ids}</item>"


def feed(works: list[Work], side: str, variant: str) -> bytes:
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            "<title>T</title>" + "".join(entry(w, side, variant) for w in works) + "</channel></rss>").encode()


def make_works(tag: str, round_no: int) -> list[Work]:
    return [Work(f"10.5555/{tag}.{round_no}.{i}", f"{round_no * 1000 + i + 1}",
                 f"{tag} {round_no:02d} {i:03d} randomised trial of a treatment in adults with a condition")
            for i in range(WORKS)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ingest.db'}"
    return request.getfixturevalue("postgres_url")


def run_rounds(url: str, variant: str, shared_store: bool = False,
               repoll: bool = False) -> tuple[SqlStore, dict, list[list[Work]]]:
    """Ingest ROUNDS rounds from both sources at once; returns a store, the events by source, the works."""
    tag = uuid.uuid4().hex[:8]
    first = SqlStore(url)
    stores = {"a": first, "b": first if shared_store else SqlStore(url)}
    sources = {"a": JOURNAL, "b": PUBMED}
    events: dict[str, list] = {"a": [], "b": []}
    errors: list[BaseException] = []
    rounds = [make_works(tag, r) for r in range(ROUNDS)]
    start = threading.Barrier(2)

    def poller(side: str) -> None:
        store = stores[side]
        try:
            for r, works in enumerate(rounds):
                body = feed((rounds[r - 1] if r and repoll else []) + works, side, variant)
                start.wait(timeout=60)
                out = ingest_feed(sources[side], body, store, NOW)
                store.published([e.event_id for e in out.events])
                events[side].extend(out.events)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=poller, args=(side,)) for side in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    return first, events, rounds


def assert_each_work_once(store: SqlStore, events: dict, rounds: list[list[Work]]) -> None:
    published = [e.item.item_id for e in events["a"] + events["b"]]
    work_of = {}
    for works in rounds:
        for w in works:
            work_of[f"doi:{w.doi}"] = work_of[f"pmid:{w.pmid}"] = w
    assert len(published) == len({work_of[i] for i in published}) == WORKS * ROUNDS  # each work once
    assert all(e.revision == 0 for e in events["a"] + events["b"])
    for item_id in published:  # both sources recorded as sightings of the work published
        assert store.sighting(item_id, "journal") and store.sighting(item_id, "pubmed")
    assert store.count_seen() == WORKS * ROUNDS and store.pending_events() == 0


@pytest.mark.parametrize("variant", ["different", "identical", "aliases"])
def test_two_sources_with_the_same_dois_at_once_publish_each_work_once(database_url, variant):
    store, events, rounds = run_rounds(database_url, variant, repoll=variant == "different")
    assert_each_work_once(store, events, rounds)
    if variant == "aliases":  # PMID and DOI given: the DOI is the work's id
        assert all(e.item.item_id.startswith("doi:") for e in events["a"] + events["b"])


def test_a_near_duplicate_title_claimed_at_once_is_one_work_under_an_alias(database_url):
    store, events, rounds = run_rounds(database_url, "near_titles")
    assert_each_work_once(store, events, rounds)
    for w in (w for works in rounds for w in works):
        doi, pmid = f"doi:{w.doi}", f"pmid:{w.pmid}"
        winner, loser = (doi, pmid) if store.known(doi) else (pmid, doi)
        assert store.known(winner) and not store.known(loser) and store.alias_of(loser) == winner


def test_the_pollers_of_one_process_share_a_store_and_publish_each_work_once(database_url):
    store, events, rounds = run_rounds(database_url, "different", shared_store=True)
    assert_each_work_once(store, events, rounds)
