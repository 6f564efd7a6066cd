"""Holding a consumer while a message waits: partitions paused and resumed, a rebalance's new
records put back, a lost partition let go, a shutdown noticed. A fake of aiokafka's public calls."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import TopicPartition

from services.common.holding import Holder, Waited

A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


@dataclass
class Record:
    topic: str
    partition: int
    offset: int


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeConsumer:
    """assignment/paused/pause/resume/seek/getmany as aiokafka has them; `script` says what each
    getmany call does to the group first (a rebalance), and what it returns."""

    clock: Clock
    assigned: set = field(default_factory=lambda: {A0, A1})
    paused_set: set = field(default_factory=set)
    seeks: dict = field(default_factory=dict)
    script: list = field(default_factory=list)
    polls: int = 0

    def assignment(self) -> set:
        return set(self.assigned)

    def paused(self) -> set:
        return self.paused_set & self.assigned

    def pause(self, *tps) -> None:
        self.paused_set |= set(tps)

    def resume(self, *tps) -> None:
        self.paused_set -= set(tps)

    def seek(self, tp, offset) -> None:
        self.seeks[tp] = offset

    async def getmany(self, *tps, timeout_ms: int = 0) -> dict:
        self.polls += 1
        self.clock.now += timeout_ms / 1000
        if self.script:
            assigned, returned = self.script.pop(0)
            if assigned is not None:  # a rebalance: a fresh assignment is not paused
                self.assigned, self.paused_set = set(assigned), set()
            return returned
        return {}


async def test_the_wait_polls_paused_partitions_and_release_resumes_them():
    clock = Clock()
    consumer = FakeConsumer(clock)
    holder = Holder(consumer, [Record("a", 0, 5)], clock)

    assert await holder.wait(3.0) is Waited.READY
    assert consumer.polls == 3 and consumer.paused() == {A0, A1}  # polled all along, fetched nothing
    holder.release()
    assert consumer.paused() == set()


async def test_a_partition_someone_else_paused_stays_paused():
    clock = Clock()
    consumer = FakeConsumer(clock, paused_set={A1})
    holder = Holder(consumer, [Record("a", 0, 5)], clock)

    await holder.wait(1.0)
    holder.release()
    assert consumer.paused() == {A1}


async def test_records_of_a_partition_assigned_during_the_wait_are_put_back_and_it_is_paused():
    clock = Clock()
    fetched = {B0: [Record("b", 0, 40), Record("b", 0, 41)]}
    consumer = FakeConsumer(clock, script=[({A0, A1, B0}, fetched)])
    holder = Holder(consumer, [Record("a", 0, 5)], clock)

    assert await holder.wait(2.0) is Waited.READY
    assert consumer.seeks == {B0: 40} and B0 in consumer.paused()


async def test_a_lost_partition_ends_the_wait_and_what_is_still_owned_is_rewound():
    clock = Clock()
    consumer = FakeConsumer(clock, script=[({A1}, {})])  # a0 went to another member
    batch = [Record("a", 0, 5), Record("a", 1, 9), Record("a", 1, 10)]
    holder = Holder(consumer, batch, clock)

    assert await holder.wait(30.0) is Waited.LOST
    assert consumer.seeks == {A1: 9}  # nothing of a1's batch is committed past unprocessed records


async def test_a_stopping_subscriber_ends_the_wait():
    clock = Clock()
    stopping = iter([False, False, True])
    consumer = FakeConsumer(clock)
    holder = Holder(consumer, [Record("a", 0, 5)], clock, stopping=lambda: next(stopping))

    assert await holder.wait(60.0) is Waited.STOPPING
    assert consumer.polls == 1


async def test_without_a_real_consumer_the_wait_is_the_clocks_sleep():
    clock = Clock()
    holder = Holder(object(), [Record("a", 0, 5)], clock)

    assert await holder.wait(7.0) is Waited.READY and clock.now == 7.0
