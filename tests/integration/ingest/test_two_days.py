"""The two capture days of the same publisher feeds, through a real SQLite store: day two adds only what is new."""

from __future__ import annotations

from services.ingest.local import ingest_local
from services.ingest.store import SqlStore
from services.ingest.tables import Source
from services.ingest.usecases import parse_items


def _ids(folder) -> set[str]:
    ids: set[str] = set()
    for path in sorted(folder.glob("*.xml")):
        ids |= {i.item_id for i in parse_items(path.read_bytes(), Source(id=path.stem, url="x")).items}
    return ids


def test_second_day_publishes_only_new_items(feeds_dir, tmp_path):
    day1, day2 = feeds_dir / "publishers" / "2021-11-23", feeds_dir / "publishers" / "2021-11-24"
    store = SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")
    first = ingest_local(day1, store)
    assert first.events and not first.errors
    assert len({e.item.item_id for e in first.events}) == len(first.events)

    second = ingest_local(day2, SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}"))  # a restart in between
    new_ids = {e.item.item_id for e in second.events}
    assert new_ids == _ids(day2) - _ids(day1)
    assert all(e.revision == 0 for e in second.events)
    assert [e.source_id for e in second.errors] == ["e379dc5d4d4c416ee999e4b32339d5e8"]  # the bot-check page

    assert ingest_local(day2, store).events == []  # a re-poll of day two: nothing again


def test_in_memory_store_works(feeds_dir):
    store = SqlStore("sqlite://")
    result = ingest_local(feeds_dir / "publishers" / "2021-11-23", store)
    assert store.count_seen() == len(result.events) > 0
