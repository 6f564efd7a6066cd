"""The scheduler pages through due subscribers: all of them, each once, a bounded page at a time."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from contracts import Frequency, Weekday
from services.notify.due import Page, Schedule

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


class RecordingSchedule(Schedule):
    """The real schedule, keeping each page it hands out and the candidates it loaded."""

    def __init__(self, store, on_candidates=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(store)
        self.pages: list[list[str]] = []
        self.loaded: list[int] = []
        self.on_candidates = on_candidates

    def due_page(self, now, **kw) -> Page:  # type: ignore[no-untyped-def]
        page = super().due_page(now, **kw)
        if page:
            self.pages.append([d.subscriber_id for d in page.due])
        return page

    def candidates(self, subscriber_ids):  # type: ignore[no-untyped-def]
        found = super().candidates(subscriber_ids)
        self.loaded.append(sum(len(v) for v in found.values()))
        if self.on_candidates:
            self.on_candidates(subscriber_ids)
        return found


def test_every_due_subscriber_is_visited_once_across_many_pages(make, ev) -> None:
    n, t = make(page_size=4)
    pager = n.schedule = RecordingSchedule(n.store)
    n.handle_batch([ev.classified(f"doi:{j}") for j in range(3)])
    due, not_due = [], []
    for i in range(30):
        sid = f"s{i:02d}"
        if i % 5 == 0:  # Thursday people are not due on Monday
            n.handle(ev.profile(sid, weekday=Weekday.thursday))
            not_due.append(sid)
        elif i % 7 == 0:  # inactive
            n.handle(ev.profile(sid, active=False))
            not_due.append(sid)
        else:
            n.handle(ev.profile(sid))
            due.append(sid)
        n.handle_batch([ev.matched(sid, f"doi:{j}") for j in range(3)])
    n.handle(ev.profile("nothing-matched"))

    sent = n.run_due(MONDAY_8)

    visited = [sid for page in pager.pages for sid in page]
    assert Counter(visited) == Counter(due + [s for s in not_due if int(s[1:]) % 5 == 0])  # first visit of the new rows
    assert max(len(p) for p in pager.pages) <= 4 and len(pager.pages) > 5
    assert max(pager.loaded) <= 4 * 3  # never more than one page's pending items
    assert sorted(e.subscriber_id for e in sent) == sorted(due)
    assert Counter(m.recipient for m in t.sent) == Counter(f"{sid}@example.nhs.uk" for sid in due)

    # the next round visits nobody: the digests went and Thursday's time is ahead
    pager.pages.clear()
    assert n.run_due(MONDAY_8 + timedelta(hours=1)) == [] and pager.pages == []
    thursday = n.run_due(MONDAY_8 + timedelta(days=3, hours=1))
    assert sorted(e.subscriber_id for e in thursday) == [s for s in not_due if int(s[1:]) % 5 == 0]


def test_a_match_arriving_while_its_subscriber_is_visited_is_not_lost(make, ev) -> None:
    n, t = make()
    n.handle_batch([ev.profile("asha"), ev.classified("doi:1"), ev.classified("doi:2"), ev.matched("asha", "doi:1")])
    arrived = []

    def meanwhile(subscriber_ids) -> None:  # type: ignore[no-untyped-def]
        if not arrived:  # another consumer applies a match between the read and the settle
            arrived.append(n.handle_batch([ev.matched("asha", "doi:2")]))

    n.schedule = RecordingSchedule(n.store, meanwhile)
    [first] = n.run_due(MONDAY_8)
    assert first.item_ids == ["doi:1"] and arrived == [1]
    assert n.run_due(MONDAY_8 + timedelta(hours=1)) == []  # this week's digest has gone
    [nxt] = n.run_due(MONDAY_8 + timedelta(days=7))
    assert nxt.item_ids == ["doi:2"]


def test_a_changed_profile_is_scheduled_by_its_new_frequency(make, ev) -> None:
    n, _ = make()
    n.handle_batch([ev.profile("asha"), ev.classified("doi:1"), ev.matched("asha", "doi:1")])
    [weekly] = n.run_due(MONDAY_8)
    n.handle_batch([ev.profile("asha", version=2, frequency=Frequency.daily, hour=7), ev.classified("doi:2"),
                    ev.matched("asha", "doi:2")])
    # now daily at 07:00: today's daily digest is due at once, with what came after the weekly one
    [daily] = n.run_due(MONDAY_8 + timedelta(hours=1))
    assert weekly.period == "2026-W48" and daily.period == "2026-11-23" and daily.item_ids == ["doi:2"]
    n.handle_batch([ev.classified("doi:3"), ev.matched("asha", "doi:3")])
    assert n.run_due(MONDAY_8 + timedelta(hours=20)) == []  # before 07:00 on Tuesday
    [tuesday] = n.run_due(MONDAY_8 + timedelta(days=1))
    assert tuesday.period == "2026-11-24" and tuesday.item_ids == ["doi:3"]


def test_a_database_from_before_the_schedule_gets_its_rows(make, ev) -> None:
    from sqlmodel import delete

    from services.notify.tables import ScheduleRow

    n, _ = make()
    n.handle_batch([ev.profile("asha"), ev.profile("ben"), ev.classified("doi:1"), ev.matched("asha", "doi:1")])
    with n.store.session() as s:
        s.exec(delete(ScheduleRow))  # type: ignore[call-overload]
        s.commit()
    n.close()
    again, t = make()  # starting over that database fills the schedule in
    [sent] = again.run_due(MONDAY_8)
    assert sent.subscriber_id == "asha" and len(t.sent) == 1


def test_an_address_that_cannot_be_written_skips_only_its_subscriber(make, ev) -> None:
    n, t = make()
    n.handle_batch([ev.profile("asha"), ev.profile("bad", email="two@@example.org"), ev.profile("ben"),
                    ev.classified("doi:1")])
    n.handle_batch([ev.matched(sid, "doi:1") for sid in ("asha", "bad", "ben")])
    sent = n.run_due(MONDAY_8)
    assert sorted(e.subscriber_id for e in sent) == ["asha", "ben"] and len(t.sent) == 2
