"""What a run put in and what came out, stage by stage, and what was lost or sent twice.

The ledger reads the topics from their beginning (`Tail`), the SMTP server's record, notify's
delivery log and subscriptions' engagement counts, and keeps only what belongs to its run:

- items: every work of the run's feeds is published, and classified;
- matches: every (item, subscriber) the run owes is matched, and sits in a digest that was sent;
- digests: every delivery notify recorded is marked sent, its Message-ID reached the SMTP server
  and its DigestSent reached subscriptions (the engagement count);
- duplicates: copies of a Message-ID beyond the first that the SMTP server accepted, against
  notify's possible_duplicate_sends counter over the same time; an item in two different
  digests of one subscriber would be a duplicate no counter allows;
- dead letters: letters parked on any dead-letter topic since the ledger opened.

`settle` polls until nothing is missing (asserting no duration), then the test asserts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel, ValidationError
from sqlmodel import select

from contracts import DigestSent, ItemClassified, ItemDiscovered, ItemMatched, ProfileChanged
from contracts.topics import DIGESTS, ITEMS, ITEMS_CLASSIFIED, MATCHES, PARTITIONS, PROFILES
from horizon.dlq.broker import read_parked
from horizon.dlq.letters import Parked
from tests.faults.stack import Stack
from tests.faults.workload import Run, notify_session


class Tail:
    """Every record of a topic, read in the background from its beginning; the ones that parse
    as the topic's event are in `events` (poison records stay in `records` only)."""

    def __init__(self, bootstrap: str, topic: str, model: type[BaseModel]) -> None:
        self.bootstrap, self.topic, self.model = bootstrap, topic, model
        self.records: list[Any] = []
        self.events: list[Any] = []

    async def __aenter__(self) -> "Tail":
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                         client_id=f"faults-tail-{self.topic}")
        await self.consumer.start()
        parts = [TopicPartition(self.topic, p) for p in range(PARTITIONS[self.topic])]
        self.consumer.assign(parts)
        await self.consumer.seek_to_beginning(*parts)
        self.task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        async for record in self.consumer:
            self.records.append(record)
            try:
                self.events.append(self.model.model_validate_json(record.value))
            except (ValidationError, ValueError, TypeError):
                pass

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.consumer.stop()


class Topics(contextlib.AsyncExitStack):
    """Tails of the topics a run flows through."""

    async def open(self, bootstrap: str) -> "Topics":
        self.items = await self.enter_async_context(Tail(bootstrap, ITEMS, ItemDiscovered))
        self.classified = await self.enter_async_context(Tail(bootstrap, ITEMS_CLASSIFIED, ItemClassified))
        self.matches = await self.enter_async_context(Tail(bootstrap, MATCHES, ItemMatched))
        self.profiles = await self.enter_async_context(Tail(bootstrap, PROFILES, ProfileChanged))
        self.digests = await self.enter_async_context(Tail(bootstrap, DIGESTS, DigestSent))
        return self


@dataclass
class Account:
    """A run's books at one moment."""

    items_in: int
    published: dict[str, set[str]]  # item id -> event ids seen
    published_records: Counter[str]  # item id -> records on the items topic
    classified: dict[str, set[str]]
    expected: set[tuple[str, str]]
    matched: dict[tuple[str, str], set[str]]
    digests: dict[str, DigestSent]  # event id -> the event
    delivered: Counter[tuple[str, str]]  # (item, subscriber) -> digests that carried it
    inbox: Counter[str]  # Message-ID -> copies the SMTP server accepted
    deliveries: dict[str, str]  # Message-ID -> status in notify's delivery log
    engagement_digests: int
    letters: list[Parked] = field(default_factory=list)
    counted: int = 0

    # --- what is missing ----------------------------------------------------------------------

    def unpublished(self, item_ids: set[str]) -> set[str]:
        return item_ids - set(self.published)

    def unclassified(self, item_ids: set[str]) -> set[str]:
        return item_ids - set(self.classified)

    def unmatched(self) -> set[tuple[str, str]]:
        return self.expected - set(self.matched)

    def undelivered(self) -> set[tuple[str, str]]:
        return set(self.matched) - set(self.delivered)

    def unsent(self) -> dict[str, str]:
        """Deliveries notify recorded that are not sent, or whose message the server never took."""
        out = {mid: status for mid, status in self.deliveries.items() if status != "sent"}
        out |= {d.message_id: "published, never accepted" for d in self.digests.values() if d.message_id not in self.inbox}
        return out

    def missing(self, item_ids: set[str]) -> dict[str, object]:
        """Everything still owed; empty once the run has settled."""
        found: dict[str, object] = {
            "items not published": self.unpublished(item_ids), "items not classified": self.unclassified(item_ids),
            "matches not made": self.unmatched(), "matches not delivered": self.undelivered(),
            "deliveries not sent": self.unsent(),
        }
        if self.engagement_digests != len(self.digests):
            found["digests not counted by subscriptions"] = f"{self.engagement_digests} of {len(self.digests)}"
        return {k: v for k, v in found.items() if v}

    # --- what came twice ----------------------------------------------------------------------

    @property
    def duplicates(self) -> int:
        """Copies beyond the first of each Message-ID the SMTP server accepted."""
        return sum(n - 1 for n in self.inbox.values() if n > 1)

    @property
    def items_twice(self) -> set[tuple[str, str]]:
        """(item, subscriber) carried by two different digests: a repeat no crash window explains."""
        return {pair for pair, n in self.delivered.items() if n > 1}

    def works_with_two_ids(self) -> dict[str, set[str]]:
        return {i: ids for i, ids in self.published.items() if len(ids) > 1}


class Ledger:
    """The books of one run on the stack (see the module docstring)."""

    def __init__(self, stack: Stack, run: Run, topics: Topics) -> None:
        self.stack, self.run, self.topics = stack, run, topics
        self.started = time.monotonic()
        self._letters_before: set[str] = set()
        self._counted_before = 0

    async def open(self) -> "Ledger":
        self._letters_before = {p.place for p in await self._letters()}
        self._counted_before = self.stack.counted_duplicates()
        self.started = time.monotonic()
        return self

    async def account(self, letters: bool = True) -> Account:
        """The books now; `letters=False` skips reading the dead-letter topics (a poll's shortcut)."""
        run, t = self.run, self.topics
        mine, subs = run.item_ids, set(run.subscribers)
        published: dict[str, set[str]] = {}
        records: Counter[str] = Counter()
        for e in t.items.events:
            if e.item.item_id in mine:
                published.setdefault(e.item.item_id, set()).add(e.event_id)
                records[e.item.item_id] += 1
        classified: dict[str, set[str]] = {}
        for e in t.classified.events:
            if e.item.item_id in mine:
                classified.setdefault(e.item.item_id, set()).add(e.event_id)
        matched: dict[tuple[str, str], set[str]] = {}
        for e in t.matches.events:
            if e.subscriber_id in subs and e.item_id in mine:
                matched.setdefault((e.item_id, e.subscriber_id), set()).add(e.event_id)
        digests = {e.event_id: e for e in t.digests.events if e.subscriber_id in subs}
        delivered: Counter[tuple[str, str]] = Counter()
        for d in {(d.subscriber_id, d.kind, d.period): d for d in digests.values()}.values():
            delivered.update((item, d.subscriber_id) for item in d.item_ids)
        parked = [p for p in await self._letters() if p.place not in self._letters_before] if letters else []
        return Account(
            items_in=len(mine), published=published, published_records=records, classified=classified,
            expected=run.expected_matches(), matched=matched, digests=digests, delivered=delivered,
            inbox=Counter(mid for _, mid in self.stack.mailbox.to(set(run.emails.values()))),
            deliveries=await asyncio.to_thread(self._deliveries), engagement_digests=await asyncio.to_thread(self._engaged),
            letters=parked, counted=self.stack.counted_duplicates() - self._counted_before,
        )

    async def settle(self, what: str = "the run to settle") -> Account:
        """Poll until nothing the run owes is missing; fail, saying what is, at the deadline."""
        deadline = time.monotonic() + self.stack.settings.deadline_s
        while True:
            account = await self.account(letters=False)
            missing = account.missing(self.run.item_ids)
            if not missing:
                await asyncio.sleep(2)  # room for a late repeat to show itself
                self._all_running()
                return await self.account()
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {s.name} ---\n{s.tail(25)}" for s in self.stack.services.values())
                raise AssertionError(f"timed out waiting for {what}; still missing: {_short(missing)}\n{logs}")
            await asyncio.sleep(1.0)

    def _all_running(self) -> None:
        """No service died on its own: the ones a test killed were started again."""
        dead = [s for s in self.stack.services.values() if not s.alive()]
        assert not dead, "\n".join(f"{s.name} is not running:\n{s.tail()}" for s in dead)

    @property
    def duration_s(self) -> float:
        return time.monotonic() - self.started

    async def _letters(self) -> list[Parked]:
        letters, _ = await read_parked(self.stack.broker.bootstrap)
        return letters

    def _deliveries(self) -> dict[str, str]:
        from services.notify.tables import DeliveryRow

        with notify_session(self.stack) as s:
            rows = s.exec(select(DeliveryRow.message_id, DeliveryRow.status).where(
                DeliveryRow.subscriber_id.in_(list(self.run.subscribers)))).all()  # type: ignore[attr-defined]
        return dict(rows)

    def _engaged(self) -> int:
        from services.subscriptions.models import Engagement

        if not self.run.organisation_id:
            return 0
        with self.run._session() as s:
            row = s.get(Engagement, self.run.organisation_id)
            return row.digests if row is not None else 0


def _short(missing: dict[str, object], n: int = 6) -> str:
    parts = []
    for key, value in missing.items():
        if isinstance(value, (set, dict)):
            shown = sorted(value)[:n] if isinstance(value, set) else list(value.items())[:n]
            parts.append(f"{key} ({len(value)}): {shown}")
        else:
            parts.append(f"{key}: {value}")
    return "; ".join(parts)


async def until(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate` (run in a thread: it may read a database) until it holds."""
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


def assert_nothing_lost(account: Account, run: Run, *, letters: bool = False) -> None:
    """What every fault asserts once its run has settled (see the module docstring)."""
    assert not account.missing(run.item_ids), account.missing(run.item_ids)
    assert account.matched and account.unmatched() == set() and account.undelivered() == set()
    assert account.works_with_two_ids() == {}, "a work was published under two event ids"
    assert all(len(ids) == 1 for ids in account.classified.values()), "an item was classified under two event ids"
    assert all(len(ids) == 1 for ids in account.matched.values()), "a match was made under two event ids"
    assert account.items_twice == set(), "an item reached a subscriber in two different digests"
    assert account.duplicates <= account.counted, (
        f"{account.duplicates} digests sent twice, {account.counted} counted as possible duplicates")
    if not letters:
        assert [p.place for p in account.letters] == [], "a valid message was dead-lettered"
