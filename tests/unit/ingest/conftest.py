"""Fakes of ingest's own ports for unit tests."""

from __future__ import annotations

import pytest

from services.ingest.dedupe import KnownWork, SeenRecord
from services.ingest.identity import title_prefix


class FakeSeen:
    """An in-memory SeenItems (the port dedupe and the use cases read) with record_seen."""

    def __init__(self) -> None:
        self.works: dict[str, KnownWork] = {}
        self.aliases: dict[str, str] = {}
        self.sightings: dict[tuple[str, str], str] = {}

    def known(self, item_id):
        return self.works.get(item_id)

    def alias_of(self, item_id):
        return self.aliases.get(item_id)

    def title_candidates(self, prefix):
        return [w for w in self.works.values() if title_prefix(w.title_key) == prefix]

    def sighting(self, item_id, source_id):
        return self.sightings.get((item_id, source_id))

    def record_seen(self, records: list[SeenRecord]) -> int:
        for r in records:
            old = self.works.get(r.item_id)
            self.works[r.item_id] = KnownWork(r.item_id, old.source_id if old else r.source_id, r.title_key,
                                              r.doi, max(r.revision, old.revision if old else 0))
            self.sightings[(r.item_id, r.source_id)] = r.content_hash
            if r.alias_id:
                self.aliases[r.alias_id] = r.item_id
        return len(records)


@pytest.fixture
def seen() -> FakeSeen:
    return FakeSeen()
