"""Digests sent on several SMTP connections at once, to a real aiosmtpd server on loopback:
each message is accepted exactly once, also when the server turns some attempts away; whether
the connections run in notify's process or in one of their own (smtp_process)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notify import metrics
from services.notify.bootstrap import build_notifier
from services.notify.mailer import Outgoing, SmtpProcess, parse_smtp_url

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


class Server:
    """Accepts mail, remembering which connection brought each message; refuses as told."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.accepted: list[tuple[str, Any]] = []  # (Message-ID, peer)
        self.refusals = dict(refuse or {})  # recipient -> one SMTP reply, given once
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            refusal = self.refusals.pop(envelope.rcpt_tos[0], None)
            if refusal is not None:
                return refusal
            mid = message_from_bytes(envelope.original_content)["Message-ID"]
            await asyncio.sleep(3.0 if envelope.rcpt_tos[0].startswith("slow") else 0.005)  # a server that takes a moment: other connections' messages arrive meanwhile
            self.accepted.append((mid, session.peer))
            return "250 OK"
        finally:
            with self.lock:
                self.in_flight -= 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve():  # type: ignore[no-untyped-def]
    started = []

    def start(server: Server) -> int:
        port = _free_port()
        controller = Controller(server, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def feed(n, ev, subscribers: list[str]) -> None:  # type: ignore[no-untyped-def]
    n.handle_batch([ev.classified(f"doi:{j}") for j in range(3)])
    n.handle_batch([ev.profile(sid) for sid in subscribers])
    n.handle_batch([ev.matched(sid, f"doi:{j}") for sid in subscribers for j in range(3)])


@pytest.fixture(params=[True, False], ids=["smtp-process", "smtp-thread"])
def own_process(request) -> bool:  # type: ignore[no-untyped-def]
    return request.param


def test_parallel_connections_deliver_each_digest_exactly_once(settings, ev, serve, own_process) -> None:  # type: ignore[no-untyped-def]
    server = Server()
    port = serve(server)
    n = build_notifier(settings.model_validate(settings.model_dump() | {
        "smtp_url": f"smtp://127.0.0.1:{port}", "smtp_connections": 4, "smtp_backoff_s": 0, "smtp_process": own_process,
    }))
    assert isinstance(n.transport, SmtpProcess) is own_process
    subscribers = [f"s{i:02d}" for i in range(40)]
    feed(n, ev, subscribers)
    sent = n.run_due(MONDAY_8)
    assert n.run_due(MONDAY_8 + timedelta(hours=1)) == []
    n.close()

    assert sorted(e.subscriber_id for e in sent) == subscribers
    assert Counter(mid for mid, _ in server.accepted) == Counter({e.message_id: 1 for e in sent})
    peers = {peer for _, peer in server.accepted}
    assert 1 < len(peers) <= 4  # connections reused for many messages, several at once
    assert server.most_in_flight > 1


def test_a_message_refused_on_one_connection_is_retried_not_lost_nor_doubled(settings, ev, serve, own_process) -> None:  # type: ignore[no-untyped-def]
    server = Server(refuse={
        "s03@example.nhs.uk": "451 4.3.0 try again later",
        "s07@example.nhs.uk": "421 4.4.2 closing this connection",
        "s11@example.nhs.uk": "550 5.1.1 no such user",
    })
    port = serve(server)
    n = build_notifier(settings.model_validate(settings.model_dump() | {
        "smtp_url": f"smtp://127.0.0.1:{port}", "smtp_connections": 3, "smtp_backoff_s": 0, "smtp_process": own_process,
    }))
    subscribers = [f"s{i:02d}" for i in range(16)]
    feed(n, ev, subscribers)
    sent = n.run_due(MONDAY_8)
    n.close()

    delivered = sorted(e.subscriber_id for e in sent)
    assert delivered == [s for s in subscribers if s != "s11"]
    assert Counter(mid for mid, _ in server.accepted) == Counter({e.message_id: 1 for e in sent})
    [refused] = n.log.of_subscriber("s11")
    assert refused.status == "failed" and "550" in refused.last_error


def _attempts(outcome: str) -> float:
    return metrics.REGISTRY.get_sample_value("horizon_notify_smtp_send_duration_seconds_count", {"outcome": outcome}) or 0.0


def _message(local: str) -> Outgoing:
    raw = f"Message-ID: <{local}@horizon>\r\nSubject: evidence\r\n\r\nHello\r\n".encode("ascii")
    return Outgoing(name=local, message_id=f"<{local}@horizon>", sender="evidence@example.org",
                    recipient=f"{local}@example.org", raw=raw)


def test_the_smtp_process_reports_timings_and_warnings_here_and_ends_with_its_parent(serve, caplog) -> None:  # type: ignore[no-untyped-def]
    server = Server(refuse={"b@example.org": "451 4.3.0 try again later"})
    transport = SmtpProcess(parse_smtp_url(f"smtp://127.0.0.1:{serve(server)}"), backoff_s=0, connections=2)
    ok, error = _attempts("ok"), _attempts("error")
    with caplog.at_level(logging.WARNING, logger="services.notify.mailer"):
        results = dict(r for group in transport.send_all([_message(x) for x in "abc"], wait_s=0.5) for r in group)
    assert sorted(results) == [0, 1, 2] and all(r.ok for r in results.values())
    assert sorted(mid for mid, _ in server.accepted) == ["<a@horizon>", "<b@horizon>", "<c@horizon>"]
    assert (_attempts("ok") - ok, _attempts("error") - error) == (3, 1)  # observed here, not in the child
    [warned] = [r for r in caplog.records if r.getMessage() == "smtp send failed"]
    assert warned.message_id == "<b@horizon>" and "451" in warned.error

    sending = transport.send_all([_message("slow")], wait_s=0.5)
    assert next(sending) == []  # the batch is out; the server holds it for seconds
    child = transport._process
    assert child is not None and child.is_alive()
    transport._conn.close()  # as when this process dies: the child loses its pipe
    child.join(timeout=2.5)
    assert not child.is_alive()  # ended before the server answered, not sending on for a dead parent
