"""Fault 7: two sources carrying the same works, polled in the same tick: each work published once.

Ingest claims each work in its database before publishing it (one unique claim; the source
that loses the race records a sighting). Ingest is paused while both sources are added, so its
next tick polls them together; the second source lists the works in the reverse order, so the
two pollers contend from both ends.
"""

from __future__ import annotations

import pytest

from tests.faults.ledger import assert_nothing_lost
from tests.faults.report import row
from tests.faults.scenario import fault_run
from tests.faults.settings import FaultSettings

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(FaultSettings().timeout_s(0))]


async def test_two_sources_with_the_same_works_publish_each_work_once(up, report):
    async with fault_run(up, "same works") as (run, ledger):
        ingest = up.services["ingest"]
        ingest.freeze()
        try:
            run.add_source("a", run.works)
            run.add_source("b", list(reversed(run.works)))
        finally:
            ingest.thaw()
        account = await ledger.settle()
    report(row("7. two sources, same works, one tick", account, run.item_ids, ledger.duration_s,
               note=f"{sum(account.published_records.values())} records for {len(run.item_ids)} works"))
    assert_nothing_lost(account, run)
    assert account.published_records == {item: 1 for item in run.item_ids}, "a work was published twice"
