"""Two consumers applying the same and overlapping batches at the same time, on real PostgreSQL
(as two notify instances do around a rebalance): every event is applied exactly once."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from contracts import utcnow
from services.notify.tables import MatchRow, ProcessedEvent, ScheduleRow

pytestmark = pytest.mark.postgres


def test_concurrent_overlapping_batches_apply_each_event_once(make, ev, postgres_url) -> None:  # type: ignore[no-untyped-def]
    a, _ = make(database_url=postgres_url)
    b, _ = make(database_url=postgres_url)
    a.handle_batch([ev.profile(f"s{i}") for i in range(40)] + [ev.classified(f"doi:{j}") for j in range(10)])
    matches = [ev.matched(f"s{i}", f"doi:{j}", score=0.5 + j / 100) for i in range(40) for j in range(10)]
    # a takes the first two thirds, b the last two thirds: the middle third is in both
    first, second = matches[: 2 * len(matches) // 3], matches[len(matches) // 3 :]
    counts: dict[str, int] = {}
    start = threading.Barrier(4)

    def apply(name: str, n, events) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        counts[name] = n.handle_batch(events)

    threads = [
        threading.Thread(target=apply, args=("a", a, first)),
        threading.Thread(target=apply, args=("b", b, second)),
        threading.Thread(target=apply, args=("a-again", a, first)),  # and the same batch redelivered
        threading.Thread(target=apply, args=("b-again", b, list(reversed(second)))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts.values()) == len(matches)
    with a.store.session() as s:
        stored = s.exec(select(MatchRow)).all()
        processed = set(s.exec(select(ProcessedEvent.event_id)).all())
        schedule = s.exec(select(ScheduleRow)).all()
    assert sorted((m.subscriber_id, m.item_id) for m in stored) == sorted((m.subscriber_id, m.item_id) for m in matches)
    assert {m.event_id for m in matches} <= processed
    assert all(r.pending and r.live for r in schedule) and len(schedule) == 40


def test_a_match_and_its_item_applied_at_the_same_instant_leave_the_subscriber_pending(make, ev, postgres_url) -> None:  # type: ignore[no-untyped-def]
    """Two transactions, one with the match and one with its item, each reading before the other
    commits (as notify's matches and classified consumers do, in one instance or two): neither
    sees the other, so neither marks the subscriber pending; the look again after each commit does."""
    from services.notify.apply import apply_batch, recheck

    n, _ = make(database_url=postgres_url)
    n.handle_batch([ev.profile("s-race")])
    match, item = ev.matched("s-race", "doi:race"), ev.classified("doi:race")
    with n.store.session() as matches, n.store.session() as items:
        apply_batch(matches, [match], lambda _: 0, utcnow())
        apply_batch(items, [item], lambda _: 0, utcnow())
        items.commit()
        matches.commit()
    with n.store.session() as s:
        assert s.get(ScheduleRow, "s-race").pending is False  # the race: each missed the other
    for events in ([item], [match]):  # what Store.apply_batch does after each commit
        with n.store.session() as s:
            recheck(s, events)
            s.commit()
    with n.store.session() as s:
        assert s.get(ScheduleRow, "s-race").pending is True
    assert [c.item.item_id for c in n.store.pending("s-race")["s-race"]] == ["doi:race"]

