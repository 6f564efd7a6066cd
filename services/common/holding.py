"""Waiting out a failed message without losing the consumer's place in its group.

A handler that waits for a database to come back blocks its subscriber's poll loop. Kafka then
counts the consumer as stuck once `max_poll_interval_ms` (5 minutes) passes without a poll,
and hands its partitions to another member. So the wait polls: every partition of the
consumer is paused, and the pause between tries is spent inside `getmany`, which returns
nothing from paused partitions but tells the group the consumer is alive (its heartbeats run
on their own). The partitions are resumed when the message is done.

If a rebalance during the wait brings a new partition (not paused yet), what `getmany` returned
from it is put back (a seek to the first record) and that partition is paused too. If the
message's own partition went to another member, the wait ends: the new owner reads the message
again from the last commit, so this consumer rewinds what it still owns of the batch and lets go.
If the subscriber is stopping, the wait ends too: the message is left uncommitted for the next
start, rather than holding the shutdown for the rest of a back-off.

Without a real consumer (FastStream's TestKafkaBroker) the wait is the clock's sleep. The
consumer is used through aiokafka's public calls only: assignment, paused, pause, resume,
getmany, seek.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from aiokafka import TopicPartition

from services.common.retry import Clock

log = logging.getLogger(__name__)

#: Longest single poll while waiting; a rebalance is noticed at least this often.
POLL_S = 1.0


class Waited(StrEnum):
    READY = "ready"  # try again
    LOST = "lost"  # a partition of the records went to another member
    STOPPING = "stopping"  # the subscriber is shutting down


class Holder:
    """Holds a consumer in its group while the records in hand wait to be tried again."""

    def __init__(self, consumer: Any, records: Sequence[Any], clock: Clock,
                 stopping: Callable[[], bool] = lambda: False) -> None:
        # FastStream's test broker hands a stand-in with no getmany: then there is no group to keep
        self.consumer = consumer if callable(getattr(consumer, "getmany", None)) else None
        self.records = records
        self.clock = clock
        self.stopping = stopping
        self.paused: set[Any] = set()

    async def wait(self, seconds: float) -> Waited:
        """Wait `seconds`, polling, unless the records' partition is lost or the subscriber stops."""
        if self.stopping():
            return Waited.STOPPING
        if self.consumer is None:
            await self.clock.sleep(seconds)
            return Waited.STOPPING if self.stopping() else Waited.READY
        until = self.clock.monotonic() + seconds
        while True:
            self._pause(self.consumer.assignment())
            if not self._own_all():
                self._rewind()
                return Waited.LOST
            if self.stopping():
                return Waited.STOPPING
            left = until - self.clock.monotonic()
            if left <= 0:
                return Waited.READY
            got = await self.consumer.getmany(timeout_ms=int(min(left, POLL_S) * 1000))
            for tp, records in got.items():  # a partition assigned since the last pause
                self.consumer.seek(tp, min(r.offset for r in records))

    def release(self) -> None:
        """Resume the partitions this holder paused (those still assigned)."""
        if self.consumer is None or not self.paused:
            return
        still = self.paused & self.consumer.assignment()
        if still:
            self.consumer.resume(*still)
        self.paused.clear()

    def _pause(self, assigned: set[Any]) -> None:
        new = assigned - self.consumer.paused()
        if new:
            self.consumer.pause(*new)
            self.paused |= new

    def _partitions(self) -> dict[Any, int]:
        """Each partition of the records in hand, with its earliest offset."""
        earliest: dict[Any, int] = {}
        for r in self.records:
            tp = TopicPartition(r.topic, r.partition)
            earliest[tp] = min(earliest.get(tp, r.offset), r.offset)
        return earliest

    def _own_all(self) -> bool:
        return set(self._partitions()) <= self.consumer.assignment()

    def _rewind(self) -> None:
        assigned = self.consumer.assignment()
        for tp, offset in self._partitions().items():
            if tp in assigned:
                self.consumer.seek(tp, offset)
        log.warning("partition revoked while a message waited; its new owner reads it again",
                    extra={"partitions": sorted(f"{tp.topic}-{tp.partition}" for tp in self._partitions())})
