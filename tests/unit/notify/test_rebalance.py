"""Two notify instances on one database, partitions moving between them in mid-send: no period
is lost and none is sent twice."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

from services.notify.mailer import Outgoing, SendResult
from services.notify.ownership import Ownership, default_partition

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
SUBSCRIBERS = [f"s{i:02d}" for i in range(12)]


class HeldTransport:
    """Sends once let through; until then the first message waits, as on a slow SMTP server."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.started = threading.Event()
        self.go = threading.Event()

    def send(self, message: Outgoing) -> SendResult:
        self.started.set()
        assert self.go.wait(timeout=30), "never let through"
        self.sent.append(message)
        return SendResult(ok=True)


class Dying(HeldTransport):
    """Sends `alive` messages, then the process dies in the middle of the next one."""

    def __init__(self, alive: int) -> None:
        super().__init__()
        self.alive = alive
        self.go.set()

    def send(self, message: Outgoing) -> SendResult:
        if len(self.sent) >= self.alive:
            raise RuntimeError("simulated crash: the instance dies mid-send")
        return super().send(message)


def feed(n, ev) -> None:  # type: ignore[no-untyped-def]
    n.handle_batch([ev.classified("doi:1"), *[ev.profile(sid) for sid in SUBSCRIBERS]])
    n.handle_batch([ev.matched(sid, "doi:1") for sid in SUBSCRIBERS])


def recipients(*transports) -> Counter:  # type: ignore[no-untyped-def]
    return Counter(m.recipient.split("@")[0] for t in transports for m in t.sent)


def test_a_rebalance_mid_send_neither_loses_nor_repeats_a_period(make, ev, recording) -> None:  # type: ignore[no-untyped-def]
    held = HeldTransport()
    a, _ = make(held, instance_id="a")
    b, b_sent = make(recording(), instance_id="b")
    b.ownership = Ownership(partitions=())  # b has just joined: Kafka has not given it anything yet
    feed(a, ev)
    sending = threading.Thread(target=a.run_due, args=(MONDAY_8,))
    sending.start()
    assert held.started.wait(timeout=30)

    # the rebalance: b takes every partition from a, while a is still sending its page
    a.ownership.assign(())
    b.ownership.own_all()
    assert b.run_due(MONDAY_8 + timedelta(minutes=1)) == []  # a's intents are leased, their period taken
    held.go.set()
    sending.join(timeout=60)
    assert b.run_due(MONDAY_8 + timedelta(hours=1)) == []
    assert b.run_due(MONDAY_8 + timedelta(hours=1) + timedelta(seconds=a.settings.send_lease_s)) == []

    assert recipients(held, b_sent) == Counter({sid: 1 for sid in SUBSCRIBERS})


def test_the_new_owner_resumes_what_a_dead_instance_left_once_its_lease_runs_out(make, ev, recording) -> None:  # type: ignore[no-untyped-def]
    dying = Dying(alive=5)
    a, _ = make(dying, instance_id="a")
    b, b_sent = make(recording(), instance_id="b")
    feed(a, ev)
    try:
        a.run_due(MONDAY_8)
    except RuntimeError:
        pass  # a is gone, its leases still standing
    b.ownership.own_all()
    assert b.run_due(MONDAY_8 + timedelta(seconds=10)) == []  # a might be alive: wait for its lease
    later = MONDAY_8 + timedelta(seconds=a.settings.send_lease_s + 10)
    resumed = b.run_due(later)
    assert len(resumed) == len(SUBSCRIBERS) - 5
    assert b.run_due(later + timedelta(hours=1)) == []
    assert recipients(dying, b_sent) == Counter({sid: 1 for sid in SUBSCRIBERS})


def test_partitions_split_the_subscribers_between_instances(make, ev, recording) -> None:  # type: ignore[no-untyped-def]
    a, a_sent = make(recording(), instance_id="a")
    b, b_sent = make(recording(), instance_id="b")
    feed(a, ev)
    a.ownership.assign(range(0, 6))
    b.ownership.assign(range(6, 12))
    sent_a, sent_b = a.run_due(MONDAY_8), b.run_due(MONDAY_8)
    assert {e.subscriber_id for e in sent_a} == {s for s in SUBSCRIBERS if default_partition(s) < 6}
    assert {e.subscriber_id for e in sent_b} == {s for s in SUBSCRIBERS if default_partition(s) >= 6}
    assert recipients(a_sent, b_sent) == Counter({sid: 1 for sid in SUBSCRIBERS})
    assert len({e.event_id for e in a.outbox() + b.outbox()}) == len(SUBSCRIBERS)  # each relays its own
    assert not {e.event_id for e in a.outbox()} & {e.event_id for e in b.outbox()}


def test_an_instance_owns_nothing_until_assigned(make, ev) -> None:  # type: ignore[no-untyped-def]
    n, t = make()
    n.ownership = Ownership(partitions=())
    feed(n, ev)
    assert n.run_due(MONDAY_8) == [] and t.sent == []
