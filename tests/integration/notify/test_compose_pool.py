"""Digests composed in worker processes are the digests composed in the scheduler's thread."""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy

from services.notify.compose_pool import MIN_JOBS

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


def digests(make, ev, tmp_path, processes: int) -> dict:  # type: ignore[no-untyped-def]
    n, t = make(compose_processes=processes, database_url=f"sqlite:///{tmp_path}/p{processes}.db")
    sids = [f"s{i:03d}" for i in range(MIN_JOBS + 6)]
    n.handle_batch([ev.classified(f"doi:{j}", title=f"Trial {j} · café") for j in range(5)])
    n.handle_batch([ev.profile(sid, name=f"Dr Zoë {i}") for i, sid in enumerate(sids)])
    n.handle_batch([ev.matched(sid, f"doi:{(i + k) % 5}") for i, sid in enumerate(sids) for k in range(3)])
    sent = n.run_due(MONDAY_8)
    assert sorted(e.subscriber_id for e in sent) == sids
    assert n.compose_pool.processes == processes  # the workers did the work (no fall-back)
    out = {}
    for m in t.sent:
        msg = message_from_bytes(m.raw, policy=policy.default)
        parts = [p.get_content() for p in msg.iter_parts()]
        out[m.recipient] = (msg["Subject"], msg["Message-ID"], str(msg["To"]), *parts)
    return out


def test_worker_processes_compose_the_same_digests(make, ev, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the links carry a timestamp to the second: compare everything else
    def stripped(found: dict) -> dict:
        import re

        return {k: tuple(re.sub(r"/(r|f|t|self)/[^/\s\"<>]+", "/TOKEN", str(v)) for v in vs) for k, vs in found.items()}

    assert stripped(digests(make, ev, tmp_path, 1)) == stripped(digests(make, ev, tmp_path, 0))
