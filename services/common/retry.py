"""Whether a failed message is tried again, after how long, or parked: pure decisions on a clock.

- poison: parked at once.
- transient: tried again, the pause doubling from `backoff_s` up to `backoff_max_s`, until the
  dependency is back; once `transient_deadline_s` has passed since the first failure it is parked,
  with that reason.
- unknown: tried again at most `unknown_attempts` times in all (the same pauses), then parked.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from services.common.errors import ErrorKind


@dataclass(frozen=True)
class RetryPolicy:
    transient_deadline_s: float = 6 * 3600.0
    unknown_attempts: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 60.0


@dataclass
class Failures:
    """What has gone wrong with one message (or batch) so far."""

    first_at: float | None = None
    attempts: int = 0
    unknown: int = 0

    def record(self, kind: ErrorKind, now: float) -> None:
        if self.first_at is None:
            self.first_at = now
        self.attempts += 1
        if kind is ErrorKind.UNKNOWN:
            self.unknown += 1


@dataclass(frozen=True)
class Verdict:
    """Park the message (with `reason`), or try again after `delay_s`."""

    park: bool
    delay_s: float = 0.0
    reason: str = ""


def backoff(attempts: int, policy: RetryPolicy) -> float:
    """The pause after the `attempts`-th failure: backoff_s, doubling, at most backoff_max_s."""
    return min(policy.backoff_s * 2 ** min(attempts - 1, 32), policy.backoff_max_s)


def next_step(kind: ErrorKind, failures: Failures, now: float, policy: RetryPolicy) -> Verdict:
    """What to do after the failure just recorded in `failures`."""
    if kind is ErrorKind.POISON:
        return Verdict(park=True, reason="poison: the message can never be processed")
    if kind is ErrorKind.UNKNOWN and failures.unknown >= policy.unknown_attempts:
        return Verdict(park=True, reason=f"unknown error, tried {failures.attempts} times")
    waited = now - (failures.first_at if failures.first_at is not None else now)
    left = policy.transient_deadline_s - waited
    if left <= 0:
        return Verdict(park=True, reason=f"dependency still failing after {waited:.0f}s (deadline "
                                         f"{policy.transient_deadline_s:.0f}s)")
    return Verdict(park=False, delay_s=min(backoff(failures.attempts, policy), left))


class Clock(Protocol):
    """Time for the retry loop: the system's, or a fake one in tests."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
