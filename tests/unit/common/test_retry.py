"""The retry or park decision, step by step on a made-up clock."""

from __future__ import annotations

from services.common.errors import ErrorKind
from services.common.retry import Failures, RetryPolicy, backoff, next_step

POLICY = RetryPolicy(transient_deadline_s=3600, unknown_attempts=3, backoff_s=0.5, backoff_max_s=60)


def _run(kinds: list[ErrorKind], step_s: float = 0.0):
    """Record each failure at a time `step_s` apart; the verdict after each."""
    failures, now, verdicts = Failures(), 0.0, []
    for kind in kinds:
        failures.record(kind, now)
        verdicts.append(next_step(kind, failures, now, POLICY))
        now += step_s
    return verdicts


def test_poison_is_parked_at_the_first_failure():
    [verdict] = _run([ErrorKind.POISON])
    assert verdict.park and verdict.reason.startswith("poison")


def test_unknown_is_tried_a_bounded_number_of_times_then_parked():
    verdicts = _run([ErrorKind.UNKNOWN] * 3)
    assert [v.park for v in verdicts] == [False, False, True]
    assert verdicts[-1].reason == "unknown error, tried 3 times"


def test_transient_backs_off_doubling_up_to_the_cap():
    verdicts = _run([ErrorKind.TRANSIENT] * 10, step_s=1)
    assert not any(v.park for v in verdicts)
    assert [v.delay_s for v in verdicts] == [0.5, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_transient_is_retried_until_the_deadline_then_parked_with_that_reason():
    failures = Failures()
    failures.record(ErrorKind.TRANSIENT, 0.0)
    assert not next_step(ErrorKind.TRANSIENT, failures, 0.0, POLICY).park
    failures.record(ErrorKind.TRANSIENT, 3599.0)
    last_wait = next_step(ErrorKind.TRANSIENT, failures, 3599.0, POLICY)
    assert not last_wait.park and last_wait.delay_s == 1.0  # never waits past the deadline
    failures.record(ErrorKind.TRANSIENT, 3600.0)
    parked = next_step(ErrorKind.TRANSIENT, failures, 3600.0, POLICY)
    assert parked.park and "after 3600s (deadline 3600s)" in parked.reason


def test_transient_failures_do_not_use_up_the_unknown_budget():
    verdicts = _run([ErrorKind.TRANSIENT] * 20 + [ErrorKind.UNKNOWN, ErrorKind.UNKNOWN], step_s=1)
    assert not any(v.park for v in verdicts)


def test_backoff_does_not_overflow_on_long_outages():
    assert backoff(10_000, POLICY) == 60
