"""Consumer lag: how many messages each consumer group of a service has not yet committed.

Lag here is a partition's end offset minus the group's committed offset (or minus the log's
start, while the group has committed nothing there: the consumers read from the earliest).
A sampler with its own small client asks the broker for both every `LAG_INTERVAL_S`, rather
than reading positions off the service's consumers, because:
- committed offsets are the group's durable progress, what at-least-once delivery would
  replay, so the figure is the same whichever instance reports it, and stays right through a
  rebalance or while a handler hangs, which is when lag matters most; a consumer's own
  position covers only its current assignment and only advances while it fetches;
- FastStream keeps its AIOKafkaConsumer to itself (batch subscribers, manual assignments),
  while two small clients answer everything with public calls and join no group (so cannot
  disturb one): an admin client (the topic's partitions, and a group's committed offsets in
  one request) and a consumer in no group (end offsets: aiokafka 0.14's admin client has no
  ListOffsets request).
Several instances of one group therefore report the same series: dashboards take the max.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from faststream import FastStream

from services.common.kafka_settings import KafkaSettings, kafka_settings
from services.common.metrics import consumer_lag

log = logging.getLogger(__name__)

#: Seconds between samples; Prometheus scrapes every 15 s by default (deploy/prometheus).
LAG_INTERVAL_S = 15.0


@dataclass(frozen=True)
class Consumed:
    """One topic a consumer group reads: all its partitions, or only those given."""

    group: str
    topic: str
    partitions: tuple[int, ...] | None = None


class LagSampler:
    """Samples the lag of each (group, topic) a service consumes into its lag gauge."""

    def __init__(self, service: str, kafka: KafkaSettings | str, consumed: Sequence[Consumed],
                 interval_s: float = LAG_INTERVAL_S) -> None:
        self.service, self.consumed, self.interval_s = service, list(consumed), interval_s
        self.options = kafka_settings(kafka).client_options()  # signed in as the service: its ACLs
        self.gauge = consumer_lag(service)
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None
        self._task: asyncio.Task | None = None
        self._failing = False

    async def _connect(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        """An admin client (partitions, committed offsets) and a consumer in no group (end offsets)."""
        if self._clients is None:
            client_id = f"horizon-{self.service}-lag"
            admin = AIOKafkaAdminClient(**self.options, client_id=client_id, request_timeout_ms=10_000)
            offsets = AIOKafkaConsumer(**self.options, group_id=None, enable_auto_commit=False,
                                       client_id=client_id, request_timeout_ms=10_000)
            try:
                await admin.start()
                await offsets.start()
            except BaseException:
                await _close(admin, offsets)
                raise
            self._clients = (admin, offsets)
        return self._clients

    async def sample(self) -> dict[tuple[str, str, int], int]:
        """Ask the broker once; set and return the lag of every (group, topic, partition)."""
        admin, offsets = await self._connect()
        out: dict[tuple[str, str, int], int] = {}
        for watched in self.consumed:
            partitions = watched.partitions
            if partitions is None:
                [described] = await admin.describe_topics([watched.topic])
                partitions = tuple(sorted(p["partition"] for p in described.get("partitions", [])))
            tps = [TopicPartition(watched.topic, p) for p in partitions]
            if not tps:
                continue
            end, start = await offsets.end_offsets(tps), await offsets.beginning_offsets(tps)
            committed = await admin.list_consumer_group_offsets(watched.group, partitions=tps)
            for tp in tps:
                done = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else start[tp]
                out[(watched.group, tp.topic, tp.partition)] = max(end[tp] - done, 0)
        for (group, topic, partition), lag in out.items():
            self.gauge.labels(group=group, topic=topic, partition=str(partition)).set(lag)
        return out

    async def run(self) -> None:
        """Sample now and every interval until cancelled; a failed sample clears the series
        (a gap on the dashboard, rather than an old figure that looks current)."""
        while True:
            try:
                await asyncio.wait_for(self.sample(), timeout=max(self.interval_s, 5.0))
                self._failing = False
            except (KafkaError, OSError, asyncio.TimeoutError) as exc:
                self.gauge.clear()
                await self._disconnect()
                # once per failure streak: a broker that is down for an hour logs once
                level = logging.DEBUG if self._failing else logging.WARNING
                log.log(level, "consumer lag not sampled", extra={"service": self.service, "error": repr(exc)})
                self._failing = True
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"{self.service}-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()

    async def _disconnect(self) -> None:
        clients, self._clients = self._clients, None
        if clients is not None:
            await _close(*clients)


async def _close(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer) -> None:
    with suppress(KafkaError, OSError):
        await offsets.stop()
    with suppress(KafkaError, OSError):
        await admin.close()


def watch_lag(app: FastStream, service: str, kafka: KafkaSettings | str, consumed: Sequence[Consumed],
              interval_s: float = LAG_INTERVAL_S) -> LagSampler:
    """Sample the lag of what `app` consumes while it runs (from after startup to shutdown)."""
    sampler = LagSampler(service, kafka, consumed, interval_s)

    async def start() -> None:
        sampler.start()

    async def stop() -> None:
        await sampler.stop()

    app.after_startup(start)
    app.on_shutdown(stop)
    return sampler
