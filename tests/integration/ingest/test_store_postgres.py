"""The SQL store on PostgreSQL: sources, health times and seen items behave as on SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.ingest.dedupe import SeenRecord
from services.ingest.store import SqlStore
from services.ingest.tables import SourceCreate, SourceUpdate

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
    record = SeenRecord("doi:10.5555/x", source.id, "a title key long enough to be compared", "10.5555/x",
                        "h1", 0, NOW, alias_id="pmid:1")
    store.record_seen([record])
    store.record_seen([record])  # idempotent
    assert store.known("doi:10.5555/x").revision == 0 and store.alias_of("pmid:1") == "doi:10.5555/x"
    assert store.sighting("doi:10.5555/x", source.id) == "h1" and store.count_seen() == 1
