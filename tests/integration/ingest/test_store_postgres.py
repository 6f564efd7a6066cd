"""The SQL store on PostgreSQL: sources, health times and seen items behave as on SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.ingest.store import SqlStore
from services.ingest.tables import SourceCreate, SourceUpdate
from services.ingest.usecases import ingest_feed

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


@pytest.mark.postgres
def test_store_round_trip_on_postgres(postgres_url):
    store = SqlStore(postgres_url)
    source = store.add_source(SourceCreate(url="https://g.example/rss", content_type="guideline"))
    assert store.due_sources(NOW)[0].id == source.id
    saved = store.get_source(source.id)
    saved.next_attempt_at = NOW + timedelta(hours=1)
    store.save_source(saved)
    assert store.due_sources(NOW) == [] and store.get_source(source.id).next_attempt_at == NOW + timedelta(hours=1)
    assert store.update_source(source.id, SourceUpdate(enabled=False)).enabled is False
    title = "A title long enough to be compared across sources"
    journal = ('<?xml version="1.0"?><rss version="2.0"><channel><title>J</title><item><title>' + title
               + "</title><link>https://doi.org/10.5555/x</link></item></channel></rss>").encode()
    pubmed = journal.replace(b"https://doi.org/10.5555/x", b"https://pubmed.ncbi.nlm.nih.gov/1/")
    first = ingest_feed(source, journal, store, NOW)
    assert [e.item.item_id for e in first.events] == ["doi:10.5555/x"] and store.pending_events() == 1
    store.published([e.event_id for e in first.events])
    assert ingest_feed(source, journal, store, NOW).events == [] and store.pending_events() == 0
    other = store.add_source(SourceCreate(id="pubmed", url="https://p.example/rss"))
    assert ingest_feed(other, pubmed, store, NOW).sighted == 1
    assert store.known("doi:10.5555/x").revision == 0 and store.alias_of("pmid:1") == "doi:10.5555/x"
    assert store.sighting("doi:10.5555/x", "pubmed") is not None and store.count_seen() == 1
