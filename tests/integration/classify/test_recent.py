"""The recent items: what classify keeps for preview, calibration and example lookup, and for how long."""

from __future__ import annotations

import time

from services.classify.index import RecentItem

from .conftest import DIM, item_event


def _stored(classifier, item_id: str, days_ago: float) -> RecentItem:
    seen = int(time.time() - days_ago * 86400)
    vector = [1.0] + [0.0] * (DIM - 1)
    return RecentItem(item_id, seen, vector, {}, {"item_id": item_id, "seen_at": seen,
                                                  "item": {"item_id": item_id, "title": item_id}})


def test_items_older_than_recent_days_are_dropped_as_items_arrive(classifier):
    classifier.recent.add([_stored(classifier, "old", 31), _stored(classifier, "last-week", 7)])
    assert {i.item_id for i in classifier.recent.since(0)} == {"old", "last-week"}

    classifier.classify([item_event("new", "Sepsis screening in the emergency department")])

    kept = {i.item_id for i in classifier.recent.since(0)}
    assert kept == {"last-week", "new"}
    assert classifier.recent.find("item_id", ["old"]) == []
