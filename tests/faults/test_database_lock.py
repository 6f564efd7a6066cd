"""Fault 4: notify's database held locked by another connection for the suite's outage.

Another connection takes SQLite's exclusive lock on notify's database before the run's works
arrive and holds it for the outage (120 s full size, 40 s at CI size: longer than notify's
30 s busy timeout, so each write fails at least once and is tried again). notify's consumers
treat "database is locked" as a dependency that is down: they retry, holding their place in
the consumer group, and park nothing; its scheduler's rounds fail and are tried again. Once the
lock goes, everything is applied and every digest sent: 0 valid messages dead-lettered.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from tests.faults.ledger import assert_nothing_lost, until
from tests.faults.report import row
from tests.faults.scenario import fault_run
from tests.faults.settings import FaultSettings

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(FaultSettings().timeout_s(1))]

RETRIES = "horizon_notify_message_retries_total"


async def test_notify_database_locked_then_released_parks_nothing(up, report):
    outage = up.settings.outage_s
    retries_before = up.metrics("notify").get(RETRIES, 0.0)
    async with fault_run(up, "notify db locked") as (run, ledger):
        lock = sqlite3.connect(up.urls["notify"].removeprefix("sqlite:///"), isolation_level=None, timeout=60)
        lock.execute("BEGIN EXCLUSIVE")
        locked = time.monotonic()
        try:
            run.add_source("a", run.works)
            await until(lambda: up.metrics("notify").get(RETRIES, 0.0) > retries_before, up.settings.deadline_s,
                        "notify's consumers to find the database locked and retry")
            await asyncio.sleep(max(0.0, outage - (time.monotonic() - locked)))
            retried = up.metrics("notify").get(RETRIES, 0.0) - retries_before
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        account = await ledger.settle()
    report(row("4. notify's database locked", account, run.item_ids, ledger.duration_s,
               note=f"locked {outage:.0f} s, {retried:.0f} retries"))
    assert_nothing_lost(account, run)
