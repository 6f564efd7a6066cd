"""notify's throughput: events applied, digests composed and sent, against the SMTP server's floor.

One run, on this machine, through notify's own use case (services.notify.notifier.Notifier):
1. `subscribers` weekly profiles are applied (set-up, not timed);
2. ItemClassified for the items, then `matches_per_subscriber` ItemMatched per subscriber, are
   applied in batches of the app's `batch_max_records`, with each subscriber's partition as the
   app records it (`notify_events_per_s`);
3. one scheduler round at their weekly send time composes and delivers every due digest to a
   real SMTP server on loopback (aiosmtpd in a process of its own, accepting and discarding) over
   `smtp_connections` connections (`digests_per_s`);
4. the same messages, already rendered (the exact bytes notify recorded), are sent again to the
   same server by a minimal aiosmtplib sender on as many connections (`smtp_floor_per_s`): how
   fast that server takes mail at all, so the ratio digests_per_s / smtp_floor_per_s says how
   much of the time is notify's own.

Subscriber ids carry a run id, so runs can share a database (database_url, e.g. PostgreSQL,
kept for benchmarks: whatever else is due in it is sent in the round too, and logged); by
default the state is a temporary SQLite file. Called by `horizon bench scale`.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller

from contracts import EvidenceType, Item, ItemClassified, ItemMatched, MatchReason, Profile, ProfileChanged, TopicTag
from contracts.topics import MATCHES, PARTITIONS
from services.notify.bootstrap import build_notifier
from services.notify.notifier import Notifier
from services.common.kafka import partition_of
from services.notify.settings import NotifySettings

log = logging.getLogger(__name__)

#: A Monday 08:00 in London (GMT): every weekly Monday-07:00 digest is due.
DUE = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)

INTERESTS = [
    "Anticoagulation for stroke prevention in atrial fibrillation",
    "Drug therapy for chronic heart failure with reduced ejection fraction",
    "Infection prevention and control in acute hospital wards",
    "Sepsis recognition and early antibiotics in the emergency department",
    "Falls prevention for older people in hospital and care homes",
    "Type 2 diabetes: glucose lowering drugs and cardiovascular outcomes",
    "Perinatal mental health and postnatal depression screening",
    "Pressure ulcer prevention in intensive care",
    "Antimicrobial stewardship in primary care prescribing",
    "Safe staffing levels and patient outcomes in nursing",
]
TOPICS = [("cardiology", "Cardiology"), ("infection", "Infection"), ("older-people", "Older people"),
          ("diabetes", "Diabetes"), ("mental-health", "Mental health"), ("nursing", "Nursing")]
DESIGNS = [
    ("a randomised controlled trial", EvidenceType.trial),
    ("a systematic review and meta-analysis", EvidenceType.systematic_review),
    ("a national cohort study", EvidenceType.observational),
    ("NICE guideline update", EvidenceType.guideline),
]
SOURCES = [("bmj", "BMJ"), ("lancet", "The Lancet"), ("nice", "NICE guidance"), ("cochrane", "Cochrane Library")]


def measure_notify(
    subscribers: int = 2000, matches_per_subscriber: int = 6, database_url: str | None = None,
    smtp_connections: int | None = None, progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Events/s applied, digests/s composed and sent, and the SMTP server's own floor, in one run."""
    say = progress or (lambda line: None)
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="horizon-bench-notify-") as tmp:
        with _SmtpProcess() as server:
            settings = NotifySettings(
                _env_file=None, dev=True, database_url=database_url or f"sqlite:///{Path(tmp) / 'notify.db'}",
                smtp_url=f"smtp://127.0.0.1:{server.port}", smtp_backoff_s=0,
                **({"smtp_connections": smtp_connections} if smtp_connections else {}),
            )
            notifier = build_notifier(settings)
            try:
                return _measure(notifier, settings, server, server.port, run, subscribers, matches_per_subscriber, say)
            finally:
                notifier.close()


def _measure(notifier: Notifier, settings: NotifySettings, server: _SmtpProcess, port: int, run: str,
             subscribers: int, per: int, say: Callable[[str], None]) -> dict[str, Any]:
    sids = [f"bench-{run}-{i:07d}" for i in range(subscribers)]
    say(f"notify: {subscribers:,} profiles")
    batch = settings.batch_max_records
    profiles = [_profile(sid, i) for i, sid in enumerate(sids)]
    for start in range(0, len(profiles), batch):
        notifier.handle_batch(profiles[start : start + batch])

    n_items = max(per * 4, subscribers * per // 20)  # interests are shared: each item reaches ~20 people
    items = [_classified(run, k) for k in range(n_items)]
    matches = [_matched(run, sid, i, k, n_items) for i, sid in enumerate(sids) for k in range(per)]
    partitions = {sid: partition_of(sid, PARTITIONS[MATCHES]) for sid in sids}
    say(f"notify: applying {len(items):,} ItemClassified and {len(matches):,} ItemMatched in batches of {batch}")
    started = time.perf_counter()
    applied = 0
    for events in (items, matches):
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            # as the app does: matches with the partitions they were consumed from
            known = {e.subscriber_id: partitions[e.subscriber_id] for e in chunk} if events is matches else None  # type: ignore[union-attr]
            applied += notifier.handle_batch(chunk, known)
    apply_s = time.perf_counter() - started

    say(f"notify: one scheduler round, {subscribers:,} digests to SMTP on loopback")
    started = time.perf_counter()
    sent = notifier.run_due(DUE)
    send_s = time.perf_counter() - started
    digests = sum(1 for e in sent if e.kind == "digest" and e.subscriber_id.startswith(f"bench-{run}-"))
    if digests != subscribers:
        log.warning("not every subscriber got a digest", extra={"subscribers": subscribers, "digests": digests})
    if len(sent) != digests:  # the rate below is then understated: the round sent those too
        log.warning("the database held other due subscribers", extra={"others": len(sent) - digests})

    say("notify: the same messages again from a minimal sender (the server's floor)")
    raws = [m for m in server.take() if m[1].startswith(f"bench-{run}-")]
    accepted = server.accepted
    floor_s = asyncio.run(_blast(raws, port, settings.smtp_connections))
    if server.accepted - accepted != len(raws):
        log.warning("the floor run lost messages", extra={"sent": len(raws), "accepted": server.accepted - accepted})
    return {
        "notify_events_per_s": applied / apply_s,
        "digests_per_s": digests / send_s,
        "smtp_floor_per_s": len(raws) / floor_s if raws else 0.0,
        "subscribers": subscribers,
        "events": applied,
        "digests": digests,
    }


def _profile(sid: str, i: int) -> ProfileChanged:
    interests = [INTERESTS[i % len(INTERESTS)], INTERESTS[(i * 7 + 3) % len(INTERESTS)]]
    return ProfileChanged(
        producer="bench", subscriber_id=sid, organisation_id=f"org-{i % 40:02d}", version=1,
        profile=Profile(name=f"Staff Member {i}", email=f"{sid}@bench.example.nhs.uk", role="Nurse",
                        organisation_name=f"Example NHS Trust {i % 40}", interests=interests,
                        topics=[TOPICS[i % len(TOPICS)][0]]),
    )


def _classified(run: str, k: int) -> ItemClassified:
    interest = INTERESTS[k % len(INTERESTS)]
    design, evidence = DESIGNS[k % len(DESIGNS)]
    source_id, source = SOURCES[k % len(SOURCES)]
    topic_id, label = TOPICS[k % len(TOPICS)]
    at = DUE - timedelta(days=6, minutes=k)
    return ItemClassified(
        producer="bench", occurred_at=at, evidence_type=evidence, urgent=False,
        tags=[TopicTag(topic_id=topic_id, label=label, score=0.71)],
        item=Item(
            item_id=f"doi:10.5555/bench.{run}.{k}", source_id=source_id, source_title=source,
            title=f"{interest.split(' in ')[0]}: {design} ({k})",
            summary=(f"Background: {interest.lower()} remains a priority for NHS services. Methods: {design} "
                     f"across {20 + k % 80} sites. Results: outcomes improved without more harm. Conclusions: "
                     "the findings support a change in practice."),
            url=f"https://journals.example.org/article/{run}/{k}", published_at=at, publisher=source,
        ),
    )


def _matched(run: str, sid: str, i: int, k: int, n_items: int) -> ItemMatched:
    item = (i * 7 + k * 13) % n_items
    reason = INTERESTS[item % len(INTERESTS)]
    score = 0.55 + ((i + k) % 40) / 100
    return ItemMatched(
        producer="bench", occurred_at=DUE - timedelta(days=5), item_id=f"doi:10.5555/bench.{run}.{item}",
        subscriber_id=sid, organisation_id=f"org-{i % 40:02d}", score=score,
        reasons=[MatchReason(kind="interest", text=reason, score=score)], evidence_type=DESIGNS[item % len(DESIGNS)][1],
    )


async def _blast(messages: list[tuple[str, str, bytes]], port: int, connections: int) -> float:
    """Seconds a minimal sender needs for these messages on `connections` reused connections."""
    todo = list(reversed(messages))

    async def work() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        while todo:
            sender, recipient, raw = todo.pop()
            await client.sendmail(sender, [recipient], raw)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(work() for _ in range(min(connections, len(messages)) or 1)))
    return time.perf_counter() - started


class _Keeping:
    """An SMTP handler that accepts every message, counts it and keeps it until taken (notify
    drops a message's bytes once sent: the floor resends what the server received)."""

    def __init__(self, accepted: Any) -> None:
        self.accepted = accepted
        self.kept: list[tuple[str, str, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.kept += [(envelope.mail_from, to, envelope.original_content) for to in envelope.rcpt_tos]
        with self.accepted.get_lock():
            self.accepted.value += 1
        return "250 OK"


def _serve(port: int, accepted: Any, ready: Any, stop: Any, conn: Any) -> None:
    handler = _Keeping(accepted)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while not stop.is_set():
        if conn.poll(0.05):
            conn.recv()
            taken, handler.kept = handler.kept, []
            conn.send(taken)
    controller.stop()


class _SmtpProcess:
    """The SMTP server in a process of its own, as a real one is: it does not take turns with notify
    for the interpreter, in either measurement."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = _free_port()
        self._accepted = ctx.Value("q", 0)
        self._ready, self._stop = ctx.Event(), ctx.Event()
        self._conn, theirs = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(self.port, self._accepted, self._ready, self._stop, theirs),
                                    daemon=True)

    @property
    def accepted(self) -> int:
        return int(self._accepted.value)

    def take(self) -> list[tuple[str, str, bytes]]:
        """(sender, recipient, bytes) of every message received since last taken."""
        self._conn.send("take")
        return self._conn.recv()

    def __enter__(self) -> _SmtpProcess:
        self._process.start()
        if not self._ready.wait(60):
            self._process.kill()
            raise RuntimeError("the benchmark's SMTP server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
