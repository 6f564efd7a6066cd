"""Fakes of ingest's own ports for unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.ingest.dedupe import Decision, KnownWork, SeenItems, Verdict
from services.ingest.identity import title_prefix


class FakeSeen:
    """An in-memory `WorkClaims` (the port dedupe and the use cases use), with the SQL store's rules:
    one work per id or alias, one sighting per work and source, revisions by compare-and-set."""

    def __init__(self) -> None:
        self.works: dict[str, KnownWork] = {}
        self.aliases: dict[str, str] = {}
        self.sightings: dict[tuple[str, str], str] = {}
        self.outbox: dict[str, object] = {}
        self.before_claim: Callable[[Decision], None] | None = None  # a concurrent writer, in tests

    def known(self, item_id):
        return self.works.get(item_id)

    def alias_of(self, item_id):
        return self.aliases.get(item_id)

    def title_candidates(self, prefix):
        return [w for w in self.works.values() if title_prefix(w.title_key) == prefix]

    def sighting(self, item_id, source_id):
        return self.sightings.get((item_id, source_id))

    def claim(self, decision: Decision, event, *, publish_after, still_new: Callable[[SeenItems], bool]) -> bool:
        if self.before_claim:
            self.before_claim(decision)
        r = decision.record
        old = self.works.get(r.item_id)
        if decision.verdict is Verdict.new:
            if old or r.item_id in self.aliases or not still_new(self):
                return False
            self.aliases[r.item_id] = r.item_id
        elif old is None or (decision.verdict is Verdict.revised and old.revision != r.revision - 1):
            return False
        elif r.alias_id and self.aliases.get(r.alias_id, r.item_id) != r.item_id:
            return False
        elif decision.verdict is not Verdict.revised and (r.item_id, r.source_id) in self.sightings:
            return False
        self.works[r.item_id] = KnownWork(r.item_id, old.source_id if old else r.source_id,
                                          old.title_key if old else r.title_key, (old and old.doi) or r.doi,
                                          max(r.revision, old.revision if old else 0))
        self.sightings[(r.item_id, r.source_id)] = r.content_hash
        if r.alias_id:
            self.aliases[r.alias_id] = r.item_id
        if event is not None:
            self.outbox[event.event_id] = event
        return True

    def published(self, event_ids) -> None:
        for event_id in event_ids:
            self.outbox.pop(event_id, None)


@pytest.fixture
def seen() -> FakeSeen:
    return FakeSeen()
