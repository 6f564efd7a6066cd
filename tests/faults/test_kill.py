"""Fault 1: each service killed mid-stream (SIGKILL) and started again: nothing lost, and nothing
sent twice outside notify's counted crash window.

Each kill is placed where it hurts, without touching the service's code:
- ingest: the broker is frozen (SIGSTOP) while ingest polls a second source, so ingest has
  claimed its works (they sit in its outbox) and waits for the broker to acknowledge the first
  publish; it is killed there, after half the run's works went out normally;
- classify: frozen as soon as its count of classified batches moves (the batch is classified
  and its outputs are being published, one by one); killed once its outputs are seen to be
  partial (mid-batch); a kill that came after the whole batch is tried again on a new batch;
- notify: the SMTP server accepts a digest and kills notify before answering 250, so the
  server has the message and notify never recorded it: the restarted notify resends it with
  the same Message-ID and counts it as a possible duplicate;
- subscriptions' outbox relay (fault 6, a relay killed after commit): killed after the profile
  changes were committed and before it published them; then, with its database write-locked by
  the test, killed after it published a second round of changes and before it could mark them
  published;
- notify's digest relay (fault 6 too): the SMTP server freezes the broker before answering a
  digest's 250, so notify records the round's digests sent and its relay waits to publish their
  DigestSent; with notify's database write-locked by the test, the broker thaws, the relay
  publishes, and notify is killed before it can mark them: the restarted relay publishes them
  again under the same event ids, subscriptions counts each digest once, and no mail goes twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import httpx
import pytest
from sqlmodel import select

from tests.faults.ledger import assert_nothing_lost, until
from tests.faults.report import row
from tests.faults.scenario import fault_run, profiles_applied
from tests.faults.settings import FaultSettings
from tests.faults.workload import notify_session

#: classify's count of classified batches: it moves once a batch is classified, before its outputs are published.
BATCHES = "horizon_classify_batch_duration_seconds_count"

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(FaultSettings().timeout_s(0))]


async def test_ingest_killed_while_publishing(up, report):
    ingest = up.services["ingest"]
    async with fault_run(up, "kill ingest") as (run, ledger):
        half = len(run.works) // 2
        first, second = run.works[:half], run.works[half:]
        run.add_source("a", first)
        await until(lambda: {w.item_id for w in first} <= {e.item.item_id for e in ledger.topics.items.events},
                    up.settings.deadline_s, "the first source's works to be published")
        up.broker.freeze()
        try:
            run.add_source("b", second)
            await until(lambda: run.claimed_unpublished() >= {w.item_id for w in second}, up.settings.deadline_s,
                        "ingest to claim the second source's works and start publishing them")
            ingest.kill()
        finally:
            up.broker.thaw()
        up.restart("ingest")
        account = await ledger.settle()
    report(row("1. kill ingest while publishing", account, run.item_ids, ledger.duration_s,
               note=f"{len(second)} claimed, unacknowledged"))
    assert_nothing_lost(account, run)


async def test_classify_killed_mid_batch(up, report):
    classify = up.services["classify"]
    async with fault_run(up, "kill classify") as (run, ledger):
        topics = ledger.topics
        outputs = lambda batch: ({e.item.item_id for e in topics.classified.events} & {w.item_id for w in batch},  # noqa: E731
                                 {(m.item_id, m.subscriber_id) for m in topics.matches.events
                                  if m.subscriber_id in run.subscribers} & run.expected_matches())
        mid_batch, tries = False, 0
        batch = run.works
        while not mid_batch and tries < 3:
            tries += 1
            owed = {(i, s) for i, s in run.expected_matches() if i in {b.item_id for b in batch}}
            batches = up.metrics("classify").get(BATCHES, 0.0)
            run.add_source(f"try{tries}", batch)
            # frozen as soon as a batch is classified: its outputs are being published one by one
            await asyncio.to_thread(_freeze_after_a_batch, up, classify, batches, up.settings.deadline_s)
            await asyncio.sleep(2)  # the tails catch up with everything classify published before the freeze
            done_items, done_matches = outputs(batch)
            mid_batch = len(done_items) < len(batch) or done_matches < owed
            if mid_batch:
                classify.kill()
            else:
                classify.thaw()  # too late: the batch was out; try again on a new one
                batch = run.new_works()
        assert mid_batch, "every kill came after a whole batch was out; the test proves nothing"
        up.restart("classify")
        account = await ledger.settle()
    report(row("1. kill classify mid-batch", account, run.item_ids, ledger.duration_s,
               note=f"{len(done_items)}/{len(batch)} items out at the kill, try {tries}"))
    assert_nothing_lost(account, run)


async def test_notify_killed_between_the_servers_250_and_its_commit(up, report):
    notify = up.services["notify"]
    async with fault_run(up, "kill notify") as (run, ledger):
        victim = sorted(run.emails.values())[0]
        up.mailbox.trap(victim, notify.kill)
        run.add_source("a", run.works)
        await until(lambda: not up.mailbox.armed(), up.settings.deadline_s, "notify to send the trapped digest")
        assert not notify.alive()
        [(_, trapped)] = up.mailbox.to({victim})
        up.restart("notify")
        account = await ledger.settle()
    report(row("1. kill notify between SMTP 250 and commit", account, run.item_ids, ledger.duration_s))
    assert_nothing_lost(account, run)
    assert account.inbox[trapped] == 2, "the digest the server took before the kill was not sent again"
    assert account.counted >= 1


async def test_subscriptions_relay_killed_before_and_after_publishing(up, report):
    relay = up.services["subscriptions"]
    async with fault_run(up, "kill relay", subscribed=False) as (run, ledger):
        profiles = ledger.topics.profiles
        # committed, not yet published: the relay is frozen while the subscribers are created
        relay.freeze()
        run.add_subscribers()
        relay.kill()
        assert not {e.subscriber_id for e in profiles.events} & set(run.subscribers)
        up.restart("subscriptions")
        await profiles_applied(run)

        # published, not yet marked: the relay's write (the mark) waits on the test's lock
        relay.freeze()
        run.touch_subscribers("after the relay was killed")
        lock = sqlite3.connect(up.urls["subscriptions"].removeprefix("sqlite:///"), isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")
            relay.thaw()
            mine = set(run.subscribers)
            await until(lambda: {e.subscriber_id for e in profiles.events if e.version == 2} >= mine,
                        up.settings.deadline_s, "the relay to publish the second round of changes")
            # the relay now waits on the lock to mark them; the process stays responsive meanwhile
            assert await asyncio.to_thread(_answers, relay.health_url), "the relay's event loop is stalled by the lock"
            relay.kill()
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        up.restart("subscriptions")
        await until(lambda: all(n >= 2 for n in _copies(profiles, run, version=2).values()), up.settings.deadline_s,
                    "the relay to publish the unmarked changes again")
        run.add_source("a", run.works)
        account = await ledger.settle()
    report(row("6. subscriptions relay killed after commit (before publish; after publish, before mark)", account,
               run.item_ids, ledger.duration_s))
    assert_nothing_lost(account, run)
    for version in (1, 2):
        ids = {}
        for e in profiles.events:
            if e.subscriber_id in run.subscribers and e.version == version:
                ids.setdefault(e.subscriber_id, set()).add(e.event_id)
        assert ids.keys() == set(run.subscribers) and all(len(v) == 1 for v in ids.values()), \
            f"profile version {version} not published once per subscriber under one event id"


async def test_notify_digest_relay_killed_after_publishing_before_marking(up, report):
    notify, deadline = up.services["notify"], up.settings.deadline_s
    async with fault_run(up, "kill notify relay") as (run, ledger):
        digests = ledger.topics.digests
        victim_id, victim = min(run.emails.items(), key=lambda kv: kv[1])
        # the server takes the victim's digest and, before its 250, the broker stops answering: notify
        # records the round's digests sent, and its relay's publish of their DigestSent waits
        up.mailbox.trap(victim, up.broker.freeze)
        lock = None
        try:
            run.add_source("a", run.works)
            await until(lambda: _round_sent(up, run, victim_id), deadline, "notify to send a round of digests")
            await asyncio.sleep(2)  # its relay reads the outbox and waits on the broker
            lock = sqlite3.connect(up.urls["notify"].removeprefix("sqlite:///"), isolation_level=None, timeout=60)
            lock.execute("BEGIN IMMEDIATE")  # the relay's mark will wait on it
            up.broker.thaw()
            await until(lambda: victim_id in {e.subscriber_id for e in digests.events}, deadline,
                        "the relay to publish the victim's DigestSent")
            notify.kill()
            first = next(e.event_id for e in digests.events if e.subscriber_id == victim_id)
        finally:
            up.broker.thaw()
            if lock is not None:
                lock.execute("ROLLBACK")
                lock.close()
        up.restart("notify")
        await until(lambda: sum(e.event_id == first for e in digests.events) >= 2, deadline,
                    "the restarted relay to publish the unmarked DigestSent again, under the same event id")
        account = await ledger.settle()
    mine = [e for e in digests.events if e.subscriber_id in run.subscribers]
    report(row("6. notify's digest relay killed after publish, before mark", account, run.item_ids,
               ledger.duration_s, note=f"{len(mine) - len(account.digests)} DigestSent published again"))
    assert_nothing_lost(account, run)
    assert account.duplicates == 0, "a digest was mailed again although its sending was committed"
    again = [e for e in digests.events if e.event_id == first]
    assert len({(e.subscriber_id, e.kind, e.period, e.message_id) for e in again}) == 1, \
        "the DigestSent published again is not the same digest"


def _round_sent(stack, run, victim_id: str) -> bool:
    """The victim's digest is recorded sent, not yet published, and no digest of the run is still being sent."""
    from services.notify.tables import DeliveryRow

    with notify_session(stack) as s:
        rows = s.exec(select(DeliveryRow.subscriber_id, DeliveryRow.status, DeliveryRow.published).where(
            DeliveryRow.subscriber_id.in_(list(run.subscribers)))).all()  # type: ignore[attr-defined]
    return (any(sid == victim_id and status == "sent" and not published for sid, status, published in rows)
            and all(status == "sent" for _, status, _ in rows))


def _freeze_after_a_batch(stack, service, batches: float, timeout_s: float) -> None:
    """Freeze classify as soon as its count of classified batches passes `batches` (polled closely)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.metrics("classify").get(BATCHES, 0.0) > batches:
            service.freeze()
            return
        time.sleep(0.02)
    raise AssertionError("classify classified no batch")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5.0).status_code == 200
    except httpx.HTTPError:
        return False


def _copies(profiles, run, version: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for e in profiles.events:
        if e.subscriber_id in run.subscribers and e.version == version:
            found[e.subscriber_id] = found.get(e.subscriber_id, 0) + 1
    return found
