"""Parked letters as data: filters, the summary per dead-letter topic, and what a replay would send."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from contracts import DeadLetter
from contracts.topics import parse_dead_letter_topic

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Parked:
    """One record of a dead-letter topic: where it sits, and the letter it holds (None when the
    record is not a DeadLetter at all: it is still listed, never replayed)."""

    dead_letter_topic: str
    partition: int
    offset: int
    key: bytes | None
    letter: DeadLetter | None
    written_at: datetime

    @property
    def place(self) -> str:
        return f"{self.dead_letter_topic}/{self.partition}/{self.offset}"

    @property
    def topic(self) -> str:
        if self.letter is not None:
            return self.letter.topic
        parsed = parse_dead_letter_topic(self.dead_letter_topic)
        return parsed[0] if parsed else "?"

    @property
    def service(self) -> str:
        parsed = parse_dead_letter_topic(self.dead_letter_topic)
        return parsed[1] if parsed else (self.letter.consumer if self.letter else "?")

    @property
    def failed_at(self) -> datetime:
        return self.letter.failed_at if self.letter is not None else self.written_at

    @property
    def error(self) -> str:
        return self.letter.error if self.letter is not None else "not a dead letter"

    @property
    def where_it_came_from(self) -> bool:
        """Whether the letter names the topic its dead-letter topic was made for. A letter is
        written by whoever may write that dead-letter topic (the consumer that parked it); one
        naming another topic could send that principal's words to a topic it may not write."""
        parsed = parse_dead_letter_topic(self.dead_letter_topic)
        return self.letter is not None and parsed is not None and self.letter.topic == parsed[0]

    @property
    def original(self) -> tuple[str, str, int, int] | None:
        """(service, topic, partition, offset) of the message first parked; None where unknown."""
        letter = self.letter
        if letter is None or letter.partition is None or letter.offset is None:
            return None
        return (self.service, letter.topic, letter.partition, letter.offset)


@dataclass
class ReplayLog:
    """What earlier replays sent: the letters' places, and the original messages behind them."""

    places: set[str] = field(default_factory=set)
    originals: set[tuple[str, str, int, int]] = field(default_factory=set)

    def add(self, parked: Parked) -> None:
        self.places.add(parked.place)
        if parked.original is not None:
            self.originals.add(parked.original)

    def has(self, parked: Parked) -> bool:
        return parked.place in self.places or (parked.original is not None and parked.original in self.originals)


@dataclass(frozen=True)
class Filters:
    service: str | None = None
    topic: str | None = None  # the original topic or the dead-letter topic
    error: str | None = None  # a substring of the error, any case
    since: datetime | None = None  # parked at or after

    def keep(self, parked: Parked) -> bool:
        return ((self.service is None or parked.service == self.service)
                and (self.topic is None or self.topic in (parked.topic, parked.dead_letter_topic))
                and (self.error is None or self.error.lower() in parked.error.lower())
                and (self.since is None or parked.failed_at >= self.since))


def parse_since(text: str, now: datetime) -> datetime:
    """`--since`: a duration back from now (`90m`, `2h`, `7d`) or an ISO date-time (UTC if no zone)."""
    found = _DURATION.match(text.strip())
    if found:
        return now - timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"--since wants a duration like 2h or 7d, or an ISO date-time; got {text!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def error_group(error: str) -> str:
    """Errors that differ only in numbers, ids or quoted values count as one."""
    first = error.splitlines()[0] if error else ""
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
    return re.sub(r"\d+", "N", first)[:160]


@dataclass(frozen=True)
class TopicSummary:
    dead_letter_topic: str
    topic: str
    service: str
    parked: int  # not replayed yet
    replayed: int
    oldest: datetime | None
    newest: datetime | None
    errors: list[tuple[str, int]]  # (error group, count), most frequent first


def summarise(letters: list[Parked], log: ReplayLog) -> list[TopicSummary]:
    """Per dead-letter topic: how many letters wait, how many were replayed, their ages and errors."""
    by_topic: dict[str, list[Parked]] = {}
    for parked in letters:
        by_topic.setdefault(parked.dead_letter_topic, []).append(parked)
    out = []
    for name in sorted(by_topic):
        group = by_topic[name]
        waiting = [p for p in group if not log.has(p)]
        times = [p.failed_at for p in waiting]
        errors = Counter(error_group(p.error) for p in waiting)
        out.append(TopicSummary(name, group[0].topic, group[0].service, len(waiting), len(group) - len(waiting),
                                min(times, default=None), max(times, default=None), errors.most_common()))
    return out


def to_replay(letters: list[Parked], log: ReplayLog, filters: Filters) -> list[Parked]:
    """The letters a replay sends: kept by the filters, real letters naming the topic their
    dead-letter topic is for, not sent before, and each original message once (a message
    parked twice, on a redelivery, is sent once)."""
    chosen, seen = [], ReplayLog(places=set(log.places), originals=set(log.originals))
    for parked in sorted(letters, key=lambda p: (p.failed_at, p.place)):
        if not parked.where_it_came_from or not filters.keep(parked) or seen.has(parked):
            continue
        chosen.append(parked)
        seen.add(parked)
    return chosen


def age(when: datetime | None, now: datetime) -> str:
    """'3d4h', '2h05m', '40s': how long ago, for people."""
    if when is None:
        return "-"
    seconds = max(0, int((now - when).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
