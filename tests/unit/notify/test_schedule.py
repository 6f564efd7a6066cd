"""Periods and send times in Europe/London, across the clock changes."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from contracts import Frequency, Profile, Weekday
from services.notify.schedule import (
    due_briefing_month, due_period, local_instant, month_bounds, next_due_at, period_key, send_day,
)

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


def profile(frequency: Frequency, weekday: Weekday = Weekday.monday, hour: int = 7) -> Profile:
    return Profile(name="A", email="a@example.org", frequency=frequency, weekday=weekday, hour=hour)


def test_period_keys() -> None:
    assert period_key(Frequency.daily, date(2026, 11, 23)) == "2026-11-23"
    assert period_key(Frequency.weekly, date(2026, 11, 23)) == "2026-W48"
    assert period_key(Frequency.monthly, date(2026, 11, 23)) == "2026-11"
    # ISO weeks cross years: 1 January 2027 is a Friday of 2026's week 53
    assert period_key(Frequency.weekly, date(2027, 1, 1)) == "2026-W53"


def test_send_days() -> None:
    assert send_day(Frequency.weekly, Weekday.thursday, date(2026, 11, 23)) == date(2026, 11, 26)
    assert send_day(Frequency.weekly, Weekday.monday, date(2026, 11, 29)) == date(2026, 11, 23)
    # monthly: the first chosen weekday of the month (1 November 2026 is a Sunday)
    assert send_day(Frequency.monthly, Weekday.tuesday, date(2026, 11, 20)) == date(2026, 11, 3)
    assert send_day(Frequency.monthly, Weekday.sunday, date(2026, 11, 20)) == date(2026, 11, 1)


def test_weekly_due_from_the_local_hour_in_winter_and_summer() -> None:
    p = profile(Frequency.weekly, Weekday.monday, 7)
    # winter (GMT): 07:00 local is 07:00 UTC
    assert due_period(p, datetime(2026, 11, 23, 6, 59, tzinfo=UTC), LONDON) is None
    assert due_period(p, datetime(2026, 11, 23, 7, 0, tzinfo=UTC), LONDON) == "2026-W48"
    # summer (BST): 07:00 local is 06:00 UTC
    assert due_period(p, datetime(2026, 6, 1, 5, 59, tzinfo=UTC), LONDON) is None
    assert due_period(p, datetime(2026, 6, 1, 6, 0, tzinfo=UTC), LONDON) == "2026-W23"
    # still due later in the week (a missed send is caught up), not before Monday's hour
    assert due_period(p, datetime(2026, 11, 26, 15, 0, tzinfo=UTC), LONDON) == "2026-W48"


def test_daily_hour_across_the_march_change() -> None:
    p = profile(Frequency.daily, hour=7)
    # Saturday 28 March 2026 is GMT, Sunday 29 March is BST (clocks went forward at 01:00 UTC)
    assert due_period(p, datetime(2026, 3, 28, 6, 30, tzinfo=UTC), LONDON) is None
    assert due_period(p, datetime(2026, 3, 28, 7, 0, tzinfo=UTC), LONDON) == "2026-03-28"
    assert due_period(p, datetime(2026, 3, 29, 5, 59, tzinfo=UTC), LONDON) is None
    assert due_period(p, datetime(2026, 3, 29, 6, 0, tzinfo=UTC), LONDON) == "2026-03-29"


def test_hour_in_the_spring_gap_goes_at_the_hour_after() -> None:
    # 01:00-02:00 does not exist in London on 29 March 2026: 01:00 is taken as 01:00 UTC (02:00 BST)
    assert local_instant(date(2026, 3, 29), 1, LONDON) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    p = profile(Frequency.weekly, Weekday.sunday, 1)
    assert due_period(p, datetime(2026, 3, 29, 0, 59, tzinfo=UTC), LONDON) is None
    assert due_period(p, datetime(2026, 3, 29, 1, 0, tzinfo=UTC), LONDON) == "2026-W13"


def test_hour_in_the_autumn_overlap_is_its_first_occurrence() -> None:
    # 01:00-02:00 happens twice on 25 October 2026: first BST (00:00 UTC), then GMT (01:00 UTC)
    assert local_instant(date(2026, 10, 25), 1, LONDON) == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    p = profile(Frequency.daily, hour=1)
    assert due_period(p, datetime(2026, 10, 24, 23, 59, tzinfo=UTC), LONDON) is None
    first, second = datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert first.astimezone(LONDON).hour == second.astimezone(LONDON).hour == 1
    assert due_period(p, first, LONDON) == due_period(p, second, LONDON) == "2026-10-25"
    # the day after the change, 07:00 local is 07:00 UTC again
    assert due_period(profile(Frequency.daily), datetime(2026, 10, 26, 6, 59, tzinfo=UTC), LONDON) is None


def test_month_bounds_follow_local_midnight() -> None:
    start, end = month_bounds(2026, 7, LONDON)
    assert start == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 7, 31, 23, 0, tzinfo=UTC)
    assert month_bounds(2026, 12, LONDON)[1] == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)


def test_briefing_covers_last_month_from_the_first_at_its_hour() -> None:
    assert due_briefing_month(datetime(2026, 12, 1, 7, 59, tzinfo=UTC), LONDON, 8) == (2026, 10)
    assert due_briefing_month(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), LONDON, 8) == (2026, 11)
    assert due_briefing_month(datetime(2027, 1, 20, 8, 0, tzinfo=UTC), LONDON, 8) == (2026, 12)


def test_next_due_is_this_periods_send_time_until_it_has_gone_then_the_next_periods() -> None:
    weekly = profile(Frequency.weekly, Weekday.wednesday, 9)
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert next_due_at(weekly, monday, LONDON, period_done=False) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert next_due_at(weekly, monday, LONDON, period_done=True) == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    # a period whose send time has passed unsent stays due (a digest missed is sent late)
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert next_due_at(weekly, friday, LONDON, period_done=False) <= friday
    monthly = profile(Frequency.monthly, Weekday.tuesday, 7)
    assert next_due_at(monthly, monday, LONDON, period_done=True) == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    december = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    assert next_due_at(monthly, december, LONDON, period_done=True) == datetime(2027, 1, 5, 7, 0, tzinfo=UTC)
    daily = profile(Frequency.daily, hour=7)
    # the night the clocks go back: 07:00 BST on the Saturday, 07:00 GMT on the Sunday
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    assert next_due_at(daily, saturday, LONDON, period_done=True) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert next_due_at(daily, saturday, LONDON, period_done=False) == datetime(2026, 10, 24, 6, 0, tzinfo=UTC)
