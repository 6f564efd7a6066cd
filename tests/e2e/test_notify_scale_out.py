"""Two notify instances in one consumer group, on the real broker and one PostgreSQL database,
send the same digests as one instance given the same input: each exactly once, none missing.

Three notify apps start against the broker: one alone in its own consumer group (SQLite), and
a pair sharing another group and a PostgreSQL database, the second joining after the first (a
rebalance). Profiles, classified items and matches are published as the other services publish
them (keyed by subscriber or item id). Once every deployment has applied everything, each runs
one scheduler round; every instance sends to its own SMTP server on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections import Counter
from email import message_from_bytes
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import select

from contracts import Frequency, Item, ItemClassified, ItemMatched, MatchReason, Profile, ProfileChanged
from contracts.topics import ITEMS_CLASSIFIED, MATCHES, PARTITIONS, PROFILES
from services.common.kafka import KafkaSettings

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(420)]

SUBSCRIBERS = 36
ITEMS = 10


class Inbox:
    """An SMTP server's record of the Message-IDs it accepted, per recipient."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted.append((envelope.rcpt_tos[0], message_from_bytes(envelope.original_content)["Message-ID"]))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _input(run: str) -> list[tuple[str, bytes, Any]]:
    """(topic, key, event) as subscriptions and classify publish them."""
    sids = [f"scale-{run}-{i:02d}" for i in range(SUBSCRIBERS)]
    out: list[tuple[str, bytes, Any]] = []
    for i, sid in enumerate(sids):
        profile = Profile(name=f"Staff {i}", email=f"{sid}@example.nhs.uk", frequency=Frequency.daily, hour=0,
                          interests=["Anticoagulation in atrial fibrillation"])
        out.append((PROFILES, sid.encode(), ProfileChanged(producer="test", subscriber_id=sid, organisation_id="org-s",
                                                           version=1, profile=profile)))
    for k in range(ITEMS):
        item = Item(item_id=f"doi:10.5555/scale.{run}.{k}", source_id="scale", title=f"Trial {k} of anticoagulation",
                    summary="A randomised trial. It helped.", url=f"https://example.org/{run}/{k}")
        out.append((ITEMS_CLASSIFIED, item.item_id.encode(), ItemClassified(producer="test", item=item, evidence_type="trial")))
    for i, sid in enumerate(sids):
        for k in range(i % 4 + 1):
            item_id = f"doi:10.5555/scale.{run}.{(i + k) % ITEMS}"
            out.append((MATCHES, sid.encode(), ItemMatched(
                producer="test", item_id=item_id, subscriber_id=sid, organisation_id="org-s", score=0.6 + k / 10,
                reasons=[MatchReason(kind="interest", text="Anticoagulation in atrial fibrillation", score=0.6)],
            )))
    return out


async def _until(predicate, timeout_s: float, what: str, state=lambda: "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} {state()}")


def _applied(app, run: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from services.notify.tables import MatchRow, ScheduleRow

    store = app.notify_state["notifier"].store
    with store.session() as s:
        matches = s.exec(select(func.count()).select_from(MatchRow).where(MatchRow.subscriber_id.like(f"scale-{run}-%"))).one()
        live = s.exec(select(func.count()).select_from(ScheduleRow).where(
            ScheduleRow.subscriber_id.like(f"scale-{run}-%"), ScheduleRow.live == True, ScheduleRow.pending == True,  # noqa: E712
        )).one()
    return matches, live


def _digests(app, run: str) -> set[tuple]:  # type: ignore[no-untyped-def]
    from services.notify.tables import DeliveryRow

    with app.notify_state["notifier"].store.session() as s:
        rows = s.exec(select(DeliveryRow).where(DeliveryRow.subscriber_id.like(f"scale-{run}-%"))).all()
    return {(r.subscriber_id, r.kind, r.period, r.status, tuple(r.item_ids), r.message_id) for r in rows}


async def test_two_instances_send_what_one_sends_each_once(kafka_bootstrap, postgres_url, tmp_path) -> None:
    from services.notify.app import create_app
    from services.notify.settings import NotifySettings

    run = uuid.uuid4().hex[:8]
    events = _input(run)
    expected_matches = sum(1 for topic, _, _ in events if topic == MATCHES)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, retry_backoff_s=0.1)
    inboxes = {name: Inbox() for name in ("single", "pair-a", "pair-b")}
    servers = {name: Controller(inbox, hostname="127.0.0.1", port=_free_port()) for name, inbox in inboxes.items()}
    for controller in servers.values():
        controller.start()

    def settings(name: str, database_url: str, group: str) -> NotifySettings:
        return NotifySettings(
            _env_file=None, dev=True, database_url=database_url, consumer_group=group, instance_id=name,
            smtp_url=f"smtp://127.0.0.1:{servers[name].port}", smtp_backoff_s=0, outbox_dir=tmp_path / name,
            scheduler_interval_s=3600, batch_timeout_ms=100,  # rounds run when the test says
        )

    single = create_app(settings("single", f"sqlite:///{tmp_path / 'single.db'}", f"notify-single-{run}"), kafka)
    pair = [create_app(settings(name, postgres_url, f"notify-pair-{run}"), kafka) for name in ("pair-a", "pair-b")]
    started = []
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for app in (single, pair[0]):
            await app.start()
            started.append(app)
        owned = lambda app: app.notify_state["notifier"].ownership.partitions or frozenset()  # noqa: E731
        await _until(lambda: len(owned(pair[0])) == PARTITIONS[MATCHES], 120, "the first instance to own everything")
        await pair[1].start()  # the second instance joins: a rebalance splits the partitions
        started.append(pair[1])
        await _until(lambda: owned(pair[0]) and owned(pair[1]) and not owned(pair[0]) & owned(pair[1])
                     and len(owned(pair[0]) | owned(pair[1])) == PARTITIONS[MATCHES], 120, "the partitions split")

        for topic, key, event in events:
            await producer.send(topic, event.model_dump_json().encode(), key=key)
        await producer.flush()
        for app in (single, pair[0]):
            await _until(lambda app=app: _applied(app, run) == (expected_matches, SUBSCRIBERS), 180, "every event applied",
                         lambda app=app: f"(matches, pending subscribers): {_applied(app, run)} of {(expected_matches, SUBSCRIBERS)}")

        await single.notify_tick()  # type: ignore[attr-defined]
        await asyncio.gather(pair[0].notify_tick(), pair[1].notify_tick())  # type: ignore[attr-defined]
        for app in (single, pair[0]):  # a second round changes nothing
            await app.notify_tick()  # type: ignore[attr-defined]
        alone, together = _digests(single, run), _digests(pair[0], run)
    finally:
        await producer.stop()
        for app in reversed(started):
            with contextlib.suppress(Exception):
                await app.stop()
        for controller in servers.values():
            controller.stop()

    # (subscriber, kind, period, status, items, Message-ID): the same digests, the same ids
    assert len(alone) == SUBSCRIBERS and all(d[3] == "sent" and d[1] == "digest" for d in alone)
    assert together == alone
    mine = lambda inbox: [mid for rcpt, mid in inbox.accepted if rcpt.startswith(f"scale-{run}-")]  # noqa: E731
    assert Counter(mine(inboxes["single"])) == Counter({d[5]: 1 for d in alone})
    assert Counter(mine(inboxes["pair-a"]) + mine(inboxes["pair-b"])) == Counter({d[5]: 1 for d in together})
    assert mine(inboxes["pair-a"]) and mine(inboxes["pair-b"])  # both instances sent their share
