"""Fault 3: the SMTP server down for the suite's outage, then back: every digest delivered once.

The server closes its port before the run's works arrive, so notify records its intents and
every attempt to send them is refused; each failed run is recorded and retried later with a
growing pause. Once the server is back, every digest goes out exactly once (a refused
connection never had a 250, so there is nothing to resend twice), none is given up, and
nothing reaches a dead-letter topic.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import select

from tests.faults.ledger import assert_nothing_lost, until
from tests.faults.report import row
from tests.faults.scenario import fault_run
from tests.faults.settings import FaultSettings
from tests.faults.workload import notify_session

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(FaultSettings().timeout_s(1))]


async def test_smtp_down_then_back_delivers_every_digest_once(up, report):
    outage = up.settings.outage_s
    async with fault_run(up, "smtp down") as (run, ledger):
        up.mailbox.down()
        down = time.monotonic()
        try:
            run.add_source("a", run.works)
            await until(lambda: _failed_attempts(up, run) > 0, up.settings.deadline_s, "notify to fail to send")
            await asyncio.sleep(max(0.0, outage - (time.monotonic() - down)))
            attempts = _failed_attempts(up, run)
        finally:
            up.mailbox.up()
        account = await ledger.settle()
    report(row("3. SMTP down, then back", account, run.item_ids, ledger.duration_s,
               note=f"down {outage:.0f} s, {attempts} failed attempts"))
    assert_nothing_lost(account, run)
    assert account.duplicates == 0 and set(account.inbox.values()) == {1}, "a digest was sent twice"
    assert set(account.deliveries.values()) == {"sent"}


def _failed_attempts(stack, run) -> int:
    """Failed runs notify has recorded on the run's deliveries so far."""
    from services.notify.tables import DeliveryRow

    with notify_session(stack) as s:
        attempts = s.exec(select(DeliveryRow.attempts).where(
            DeliveryRow.subscriber_id.in_(list(run.subscribers)), DeliveryRow.status == "sending")).all()
    return sum(attempts)
