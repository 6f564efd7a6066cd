"""A rebalance in mid-send on real PostgreSQL and a real SMTP server: the instance that lost the
partitions finishes what it was sending, the one that gained them sends nothing twice."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notify.bootstrap import build_notifier
from services.notify.ownership import Ownership

pytestmark = pytest.mark.postgres
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


class SlowServer:
    """Holds every message until let through (a slow relay), then accepts it."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.arrived = threading.Event()
        self.go = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.set()
        while not self.go.is_set():
            await asyncio.sleep(0.01)
        self.accepted.append(message_from_bytes(envelope.original_content)["Message-ID"])
        return "250 OK"


def test_rebalance_mid_send_on_postgres_and_smtp(settings, ev, postgres_url) -> None:  # type: ignore[no-untyped-def]
    server = SlowServer()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    common = settings.model_dump() | {"database_url": postgres_url, "smtp_url": f"smtp://127.0.0.1:{port}", "smtp_backoff_s": 0}
    a = build_notifier(settings.model_validate(common | {"instance_id": "a"}))
    b = build_notifier(settings.model_validate(common | {"instance_id": "b"}), ownership=Ownership(partitions=()))
    try:
        subscribers = [f"s{i:02d}" for i in range(20)]
        a.handle_batch([ev.classified("doi:1"), *[ev.profile(sid) for sid in subscribers]])
        a.handle_batch([ev.matched(sid, "doi:1") for sid in subscribers])
        result: dict[str, list] = {}
        sending = threading.Thread(target=lambda: result.setdefault("a", a.run_due(MONDAY_8)))
        sending.start()
        assert server.arrived.wait(timeout=30)

        a.ownership.assign(())  # the rebalance: every partition moves from a to b
        b.ownership.own_all()
        assert b.run_due(MONDAY_8 + timedelta(minutes=1)) == []
        server.go.set()
        sending.join(timeout=120)
        later = b.run_due(MONDAY_8 + timedelta(hours=1) + timedelta(seconds=a.settings.send_lease_s))
    finally:
        a.close()
        b.close()
        controller.stop()

    assert later == []
    assert sorted(e.subscriber_id for e in result["a"]) == subscribers
    assert Counter(server.accepted) == Counter({e.message_id: 1 for e in result["a"]})
