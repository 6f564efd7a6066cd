"""Fault 2: the broker stopped and started while the services run: they wait, then resume.

Half the run's works flow first. The broker then stops for the suite's outage (120 s full
size, 40 s at CI size) while the services keep running: ingest polls a second source during
the outage (its claimed events wait in its outbox), the subscribers' profiles change (the
subscriptions relay keeps them in its outbox), and whatever classify, notify and the relays
were doing fails and is retried. The broker starts again on the same data: every work, match
and digest arrives, nothing is dead-lettered, and no service had to be restarted.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.ledger import assert_nothing_lost, until
from tests.faults.report import row
from tests.faults.scenario import fault_run
from tests.faults.settings import FaultSettings

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(FaultSettings().timeout_s(1))]


async def test_broker_stopped_and_started_while_the_services_run(up, report):
    outage = up.settings.outage_s
    async with fault_run(up, "broker down") as (run, ledger):
        half = len(run.works) // 2
        first, second = run.works[:half], run.works[half:]
        run.add_source("a", first)
        await until(lambda: {w.item_id for w in first} & {e.item.item_id for e in ledger.topics.classified.events},
                    up.settings.deadline_s, "the first works to flow")
        await asyncio.to_thread(up.broker.stop)
        stopped = time.monotonic()
        try:
            run.add_source("b", second)
            run.touch_subscribers("changed while the broker was down")
            await until(lambda: run.claimed_unpublished() >= {w.item_id for w in second}, outage,
                        "ingest to claim the second source's works and hold them, unpublished, in its outbox")
            await asyncio.sleep(max(0.0, outage - (time.monotonic() - stopped)))
            assert all(s.alive() for s in up.services.values()), "a service gave up while the broker was down"
        finally:
            await asyncio.to_thread(up.broker.start)
        account = await ledger.settle()
    report(row("2. broker stopped and started", account, run.item_ids, ledger.duration_s,
               note=f"down {outage:.0f} s"))
    assert_nothing_lost(account, run)
