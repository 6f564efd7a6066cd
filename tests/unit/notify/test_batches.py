"""Events applied a batch per transaction: repeats and overlaps change nothing, and a batch
leaves the same state as its events applied one at a time."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import select

from services.notify.tables import ItemRow, MatchRow, ScheduleRow, SubscriberRow

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def state(n) -> dict:  # type: ignore[no-untyped-def]
    """What the events left behind, comparable across databases."""
    with n.store.session() as s:
        return {
            "subscribers": sorted((r.subscriber_id, r.version, r.deleted, r.profile) for r in s.exec(select(SubscriberRow))),
            "items": sorted((r.item_id, r.revision, r.item["title"], r.urgent) for r in s.exec(select(ItemRow))),
            "matches": sorted(
                (r.subscriber_id, r.item_id, r.score, r.urgent, tuple(x["text"] for x in r.reasons))
                for r in s.exec(select(MatchRow))
            ),
            "schedule": sorted(
                (r.subscriber_id, r.live, r.pending, r.urgent_pending, r.alerts, r.board, r.partition)
                for r in s.exec(select(ScheduleRow))
            ),
        }


def story(ev) -> list:  # type: ignore[no-untyped-def]
    """A mixed stream: profiles, a tombstone and a re-creation, stale versions, revisions, re-matches."""
    return [
        ev.matched("asha", "doi:1", score=0.5),  # before her profile and before the item
        ev.profile("asha"),
        ev.profile("ben", board_briefing=True, urgent_alerts=False),
        ev.classified("doi:1"),
        ev.classified("doi:2", urgent=True),
        ev.matched("asha", "doi:2"),
        ev.matched("ben", "doi:2"),
        ev.matched("asha", "doi:1", score=0.9, reason="Anticoagulation"),  # a re-match refreshes why
        ev.classified("doi:1", title="Revised title", revision=2),
        ev.classified("doi:1", title="Late old revision", revision=1),  # older: ignored
        ev.profile("cara"),
        ev.matched("cara", "doi:1"),
        ev.tombstone("cara", version=2),
        ev.matched("cara", "doi:2"),  # after the tombstone: dropped
        ev.profile("cara", version=1),  # stale: does not resurrect
        ev.profile("dev"),
        ev.matched("dev", "doi:1"),
        ev.tombstone("dev", version=2),
        ev.profile("dev", version=3, name="Dev Again"),  # re-created: starts empty
        ev.profile("asha", version=2, frequency="daily"),
    ]


def test_a_batch_leaves_the_state_its_events_leave_one_at_a_time(make, ev, tmp_path) -> None:
    events = story(ev)
    one, _ = make()
    for event in events:
        one.handle(event)
    batched, _ = make(database_url=f"sqlite:///{tmp_path}/batched.db")
    assert batched.handle_batch(events[:7]) == 7
    assert batched.handle_batch(events[7:]) == len(events) - 7
    assert state(batched) == state(one)
    assert state(one)["matches"] == [
        ("asha", "doi:1", 0.9, False, ("Anticoagulation",)),
        ("asha", "doi:2", 0.8, False, ("Atrial fibrillation",)),
        ("ben", "doi:2", 0.8, False, ("Atrial fibrillation",)),
    ]
    assert [i[:3] for i in state(one)["items"]] == [("doi:1", 2, "Revised title"), ("doi:2", 0, "Title of doi:2")]


def test_the_same_batch_twice_changes_nothing(make, ev) -> None:
    n, _ = make()
    events = story(ev)
    assert n.handle_batch(events) == len(events)
    before = state(n)
    assert n.handle_batch(events) == 0
    assert state(n) == before


def test_overlapping_batches_apply_each_event_once(make, ev) -> None:
    n, _ = make()
    first_match = ev.matched("asha", "doi:1", score=0.5)
    rematch = ev.matched("asha", "doi:1", score=0.9)
    assert n.handle_batch([ev.profile("asha"), ev.classified("doi:1"), first_match]) == 3
    assert n.handle_batch([first_match, rematch]) == 1  # the first match again, then something new
    assert n.handle_batch([rematch, first_match, ev.matched("asha", "doi:2")]) == 1
    # the redelivered first match did not undo the re-match that came after it
    assert [m[:3] for m in state(n)["matches"]] == [("asha", "doi:1", 0.9), ("asha", "doi:2", 0.8)]


def test_an_event_twice_in_one_batch_is_applied_once(make, ev) -> None:
    n, _ = make()
    profile = ev.profile("asha")
    assert n.handle_batch([profile, profile, profile]) == 1


def test_schedule_rows_follow_the_events(make, ev) -> None:
    n, _ = make()
    n.handle_batch(story(ev), partitions={"asha": 7})
    rows = {r[0]: r[1:] for r in state(n)["schedule"]}
    # live, pending, urgent_pending, alerts, board, partition
    assert rows["asha"][:5] == (True, True, True, True, False) and rows["asha"][5] == 7
    assert rows["ben"][:5] == (True, True, True, False, True)
    assert rows["cara"][:3] == (False, False, False)  # deleted
    assert rows["dev"][:3] == (True, False, False)  # re-created, nothing waiting
    assert all(0 <= r[5] < 12 for r in rows.values())


def test_a_match_waits_for_its_item_before_it_is_pending(make, ev) -> None:
    n, _ = make()
    n.handle_batch([ev.profile("asha"), ev.matched("asha", "doi:9", at=T0)])
    assert state(n)["schedule"][0][2] is False
    n.handle_batch([ev.classified("doi:9", urgent=True)])
    assert state(n)["schedule"][0][2:4] == (True, True)
