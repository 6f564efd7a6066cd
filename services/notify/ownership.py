"""Which subscribers this notify instance schedules: those of the matches partitions it owns.

Matches are keyed by subscriber id, so all of a subscriber's matches come through one partition
of the matches topic. Several notify instances in one consumer group split the partitions, and
each schedules and sends for the subscribers of its own; the state they share (PostgreSQL)
records each subscriber's partition as their matches are applied. A subscriber with no match
yet (a board member) is placed where Kafka's default partitioner would put their key:
murmur2(key) % partitions.

Who owns what changes with every rebalance. Ownership only divides the work: the delivery log's
unique (subscriber, kind, period) and the leases on intents being sent are what make sure that
a period is never sent twice when two instances briefly both believe they own a subscriber.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition

from contracts.topics import MATCHES, PARTITIONS
from services.common.kafka import partition_of

log = logging.getLogger(__name__)


def default_partition(subscriber_id: str) -> int:
    """The subscriber's partition of the matches topic as the contracts create it."""
    return partition_of(subscriber_id, PARTITIONS[MATCHES])


class Ownership:
    """The partitions of the matches topic this instance owns; None: every partition.

    An instance outside a consumer group (the demo, tests, benchmarks) owns everything. The app
    starts owning nothing and takes what each rebalance assigns it.
    """

    def __init__(self, partitions: Iterable[int] | None = None, total: int = PARTITIONS[MATCHES]) -> None:
        self._partitions = None if partitions is None else frozenset(partitions)
        self.total = total

    @property
    def partitions(self) -> frozenset[int] | None:
        return self._partitions

    def assign(self, partitions: Iterable[int], total: int | None = None) -> None:
        """Own exactly these partitions (of `total`, when known)."""
        # one attribute swapped whole: the scheduler thread reads it without a lock
        self._partitions = frozenset(partitions)
        if total:
            self.total = total
        log.info("partitions owned", extra={"topic": MATCHES, "partitions": sorted(self._partitions)})

    def add(self, partitions: Iterable[int], total: int | None = None) -> None:
        self.assign((self._partitions or frozenset()) | set(partitions), total)

    def revoke(self, partitions: Iterable[int]) -> None:
        if self._partitions is not None:
            self.assign(self._partitions - set(partitions))

    def own_all(self) -> None:
        self._partitions = None


class OwnershipListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Keeps an Ownership in step with the matches partitions Kafka assigns this consumer.

    Revoked partitions stop being scheduled from the scheduler's next page; what this instance
    is already sending for them it finishes under its leases.
    """

    def __init__(self, ownership: Ownership, consumer: Callable[[], Any]) -> None:
        self.ownership = ownership
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.ownership.revoke(tp.partition for tp in revoked if tp.topic == MATCHES)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.consumer()
        known = consumer.partitions_for_topic(MATCHES) if consumer is not None else None
        self.ownership.add((tp.partition for tp in assigned if tp.topic == MATCHES), len(known) if known else None)
