"""When to poll a source next: its interval with jitter, capped exponential back-off, Retry-After. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Policy:
    """The schedule's knobs (from IngestSettings)."""

    jitter_fraction: float = 0.1
    backoff_base_s: int = 300
    backoff_max_s: int = 86400
    retry_after_max_s: int = 86400


def jittered(seconds: float, fraction: float, rand: float) -> float:
    """`seconds` spread by +/- `fraction`; `rand` in [0, 1) comes from the caller (random.random())."""
    return seconds * (1 + fraction * (2 * rand - 1))


def after_success(now: datetime, interval_s: int, policy: Policy, rand: float) -> datetime:
    """The next poll after a success or a 304."""
    return now + timedelta(seconds=jittered(interval_s, policy.jitter_fraction, rand))


def backoff_s(failures: int, policy: Policy) -> float:
    """Delay after the n-th consecutive failure: base * 2^(n-1), capped."""
    exponent = max(failures - 1, 0)
    if exponent > 40:
        return float(policy.backoff_max_s)
    return float(min(policy.backoff_base_s * 2**exponent, policy.backoff_max_s))


def after_failure(now: datetime, failures: int, policy: Policy, rand: float,
                  retry_after_s: float | None = None) -> datetime:
    """The next poll after a failure: Retry-After when the server gave one, else the back-off.

    Never sooner than Retry-After (capped by retry_after_max_s), and never later than the back-off
    cap, so a failing feed keeps being retried.
    """
    if retry_after_s is not None:
        delay = min(max(retry_after_s, 0.0), float(policy.retry_after_max_s))
        return now + timedelta(seconds=delay)
    delay = jittered(backoff_s(failures, policy), policy.jitter_fraction, rand)
    return now + timedelta(seconds=max(delay, 1.0))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)
