"""The frame every fault runs in: a fresh run on the stack, its ledger open, its subscribers known.

`async with fault_run(stack, "name") as (run, ledger):` tails the topics, snapshots the dead
letters and the duplicate counter, creates the run's subscribers and waits until classify and
notify hold their profiles (items matched before that would match no one). On the way out the
subscribers are deleted (tombstones), so later runs' items are never matched to them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from tests.faults.ledger import Ledger, Topics, until
from tests.faults.stack import Stack
from tests.faults.workload import Run


async def subscribe(run: Run) -> None:
    """Create the run's subscribers and wait until the pipeline holds their profiles."""
    run.add_subscribers()
    await profiles_applied(run)


async def profiles_applied(run: Run) -> None:
    await until(run.profiles_applied, run.stack.settings.deadline_s, "the profiles to reach classify and notify")


@contextlib.asynccontextmanager
async def fault_run(stack: Stack, fault: str, *, subscribed: bool = True) -> AsyncIterator[tuple[Run, Ledger]]:
    run = Run(stack, fault)
    try:
        async with Topics() as topics:
            await topics.open(stack.broker.bootstrap)
            ledger = await Ledger(stack, run, topics).open()
            if subscribed:
                await subscribe(run)
            yield run, ledger
    finally:
        with contextlib.suppress(Exception):  # a database left locked by a failed test: the next run's ids differ
            run.delete_subscribers()
        run.close()
