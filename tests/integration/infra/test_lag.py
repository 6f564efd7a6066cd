"""Consumer lag on the real broker: the gauge shows the messages a group has not committed, and
falls to nothing once the group has read and committed them."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CoordinatorNotAvailableError
from prometheus_client import REGISTRY

from services.common.lag import Consumed, LagSampler

@pytest.mark.kafka
async def test_lag_gauge_follows_unconsumed_and_committed_messages(kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:8]
    topic, group = f"horizon.test-lag-{tag}", f"lag-test-{tag}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, f"m{n}".encode(), partition=0)
        await producer.send_and_wait(topic, b"other", partition=1)
    finally:
        await producer.stop()

    sampler = LagSampler("lagtest", kafka_bootstrap, [Consumed(group, topic)])
    gauge = "horizon_lagtest_consumer_lag_messages"

    async def sample() -> dict:
        for _ in range(60):  # a fresh broker makes its offsets topic on the first group's request
            try:
                return await sampler.sample()
            except CoordinatorNotAvailableError:
                await asyncio.sleep(0.5)
        return await sampler.sample()

    def lag(partition: int) -> float | None:
        return REGISTRY.get_sample_value(gauge, {"group": group, "topic": topic, "partition": str(partition)})

    try:
        # nothing committed yet: the group would read everything from the start
        assert await sample() == {(group, topic, 0): 5, (group, topic, 1): 1}
        assert (lag(0), lag(1)) == (5, 1)

        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            await consumer.commit({tp: 2})  # two of five handled
            await sample()
            assert (lag(0), lag(1)) == (3, 1)
            await consumer.commit({tp: 5})
            await sample()
            assert lag(0) == 0
        finally:
            await consumer.stop()
    finally:
        await sampler.stop()


async def test_an_unreachable_broker_clears_the_gauge_rather_than_keep_an_old_figure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sampler = LagSampler("lagdown", f"127.0.0.1:{port}", [Consumed("g", "t")], interval_s=0.05)
    sampler.gauge.labels(group="g", topic="t", partition="0").set(7)
    sampler.start()
    try:
        for _ in range(200):
            if REGISTRY.get_sample_value("horizon_lagdown_consumer_lag_messages",
                                         {"group": "g", "topic": "t", "partition": "0"}) is None:
                break
            await asyncio.sleep(0.05)
        assert REGISTRY.get_sample_value("horizon_lagdown_consumer_lag_messages",
                                         {"group": "g", "topic": "t", "partition": "0"}) is None
    finally:
        await sampler.stop()
