"""Parked letters as data: filters, the per-topic summary, and what a replay sends (each letter once)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from contracts import DeadLetter
from horizon.dlq.letters import Filters, Parked, ReplayLog, age, error_group, parse_since, summarise, to_replay

NOW = datetime(2026, 11, 18, 12, tzinfo=timezone.utc)


def parked(offset: int, *, service="notify", topic="horizon.matches.v1", error="OperationalError: database is locked",
           hours_ago=1.0, original_offset: int | None = None) -> Parked:
    letter = DeadLetter(topic=topic, partition=0, offset=original_offset if original_offset is not None else 100 + offset,
                        key="sub-1", consumer=service, error=error, failed_at=NOW - timedelta(hours=hours_ago),
                        body="{}")
    return Parked(f"{topic}.dlq.{service}", 0, offset, b"sub-1", letter, NOW)


def test_filters_by_service_topic_error_and_since():
    letters = [parked(0), parked(1, service="classify", topic="horizon.items.v1"),
               parked(2, error="ValidationError: 1 validation error", hours_ago=30)]

    def kept(**filters):
        return [p.offset for p in letters if Filters(**filters).keep(p)]

    assert kept(service="notify") == [0, 2]
    assert kept(topic="horizon.items.v1") == [1]
    assert kept(topic="horizon.matches.v1.dlq.notify") == [0, 2]
    assert kept(error="VALIDATION") == [2]
    assert kept(since=parse_since("2h", NOW)) == [0, 1]


def test_summary_counts_waiting_and_replayed_letters_with_ages_and_grouped_errors():
    letters = [parked(0, hours_ago=5, error="KeyError: 'sub-1'"), parked(1, hours_ago=2, error="KeyError: 'sub-2'"),
               parked(2, hours_ago=1)]
    log = ReplayLog()
    log.add(letters[2])

    [summary] = summarise(letters, log)

    assert (summary.dead_letter_topic, summary.service, summary.parked, summary.replayed) == (
        "horizon.matches.v1.dlq.notify", "notify", 2, 1)
    assert (age(summary.oldest, NOW), age(summary.newest, NOW)) == ("5h00m", "2h00m")
    assert summary.errors == [("KeyError: '…'", 2)]


def test_a_replay_sends_what_waits_once_and_skips_what_was_replayed():
    letters = [parked(0), parked(1), parked(2, original_offset=100)]  # 2: the message of 0, parked again
    log = ReplayLog()

    first = to_replay(letters, log, Filters())
    for p in first:
        log.add(p)
    second = to_replay(letters, log, Filters())

    assert [p.offset for p in first] == [0, 1] and second == []


def test_a_filtered_replay_leaves_the_other_letters_waiting():
    letters = [parked(0), parked(1, error="RuleViolation: unknown item")]
    log = ReplayLog()
    for p in to_replay(letters, log, Filters(error="locked")):
        log.add(p)

    assert [p.offset for p in to_replay(letters, log, Filters())] == [1]


def test_a_record_that_is_not_a_letter_is_listed_but_never_replayed():
    junk = Parked("horizon.items.v1.dlq.classify", 0, 7, None, None, NOW)

    assert to_replay([junk], ReplayLog(), Filters()) == []
    assert summarise([junk], ReplayLog())[0].errors == [("not a dead letter", 1)]


def test_since_takes_a_duration_or_a_date_time():
    assert parse_since("90m", NOW) == NOW - timedelta(minutes=90)
    assert parse_since("2026-11-01T00:00:00", NOW) == datetime(2026, 11, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="duration"):
        parse_since("yesterday", NOW)


def test_errors_that_differ_only_in_values_are_one_group():
    assert error_group("IntegrityError: duplicate key 42\ntraceback") == error_group("IntegrityError: duplicate key 7")


def test_a_letter_naming_another_topic_than_its_dead_letter_topics_is_never_replayed():
    """classify may write horizon.items.v1.dlq.classify; a letter there that names the profiles
    topic would, replayed by the admin principal, put classify's words on a topic only
    subscriptions may write."""
    honest = parked(0, service="classify", topic="horizon.items.v1")
    forged_letter = honest.letter.model_copy(update={"topic": "horizon.profiles.v1", "offset": 999})
    forged = Parked("horizon.items.v1.dlq.classify", 0, 1, b"sub-1", forged_letter, NOW)

    assert [p.offset for p in to_replay([honest, forged], ReplayLog(), Filters())] == [0]
