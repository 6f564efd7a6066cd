"""When a digest or briefing is due: periods and send times in the subscriber's local time.

All pure. Send times are local wall-clock times (weekday, hour) in Europe/London, converted to
instants with zoneinfo, so 07:00 stays 07:00 across the clock changes. An hour that does not
exist (the spring gap) falls at the same instant as the hour after; an hour that happens twice
(the autumn overlap) is taken at its first occurrence. The delivery log, keyed by period, makes
sure a period is sent once, whatever the clock does.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from contracts import Frequency, Profile, Weekday

WEEKDAYS = list(Weekday)


def period_key(frequency: Frequency, day: date) -> str:
    """The period a local date falls in: '2026-11-23', ISO week '2026-W48', or '2026-11'."""
    if frequency == Frequency.daily:
        return day.isoformat()
    if frequency == Frequency.weekly:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def send_day(frequency: Frequency, weekday: Weekday, day: date) -> date:
    """The local date in `day`'s period on which that period's digest goes."""
    target = WEEKDAYS.index(weekday)
    if frequency == Frequency.daily:
        return day
    if frequency == Frequency.weekly:
        return day - timedelta(days=day.weekday()) + timedelta(days=target)
    first = day.replace(day=1)
    return first + timedelta(days=(target - first.weekday()) % 7)


def local_instant(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock hour (gap: as the hour after; overlap: the first)."""
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(timezone.utc)


def next_period_day(frequency: Frequency, day: date) -> date:
    """The first local date of the period after `day`'s."""
    if frequency == Frequency.daily:
        return day + timedelta(days=1)
    if frequency == Frequency.weekly:
        return day - timedelta(days=day.weekday()) + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def send_instant(profile: Profile, day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the digest of `day`'s period goes."""
    return local_instant(send_day(profile.frequency, profile.weekday, day), profile.hour, tz)


def next_due_at(profile: Profile, now: datetime, tz: ZoneInfo, *, period_done: bool) -> datetime:
    """When the subscriber is next worth a visit: this period's send time (past or ahead) while
    this period's digest has not gone, else the next period's."""
    today = now.astimezone(tz).date()
    return send_instant(profile, next_period_day(profile.frequency, today) if period_done else today, tz)


def due_period(profile: Profile, now: datetime, tz: ZoneInfo) -> str | None:
    """The period whose digest is due at `now`, or None while this period's send time is ahead.

    A period stays due from its send time to its end, so a digest missed while notify was down
    is sent late rather than never.
    """
    today = now.astimezone(tz).date()
    if now.astimezone(timezone.utc) < send_instant(profile, today, tz):
        return None
    return period_key(profile.frequency, today)


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar month starts and ends."""
    start = local_instant(date(year, month, 1), 0, tz)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return start, local_instant(nxt, 0, tz)


def previous_month(year: int, month: int, back: int = 1) -> tuple[int, int]:
    index = year * 12 + (month - 1) - back
    return index // 12, index % 12 + 1


def due_briefing_month(now: datetime, tz: ZoneInfo, hour: int) -> tuple[int, int]:
    """The month a board briefing covers at `now`: last month, from the 1st at `hour` local time.

    Before that instant on the 1st it is the month before last (its briefing still due if missed).
    """
    local = now.astimezone(tz)
    if now.astimezone(timezone.utc) < local_instant(local.date().replace(day=1), hour, tz):
        return previous_month(local.year, local.month, 2)
    return previous_month(local.year, local.month, 1)


def month_key(year: int, month: int) -> str:
    return f"{year}-{month:02d}"
