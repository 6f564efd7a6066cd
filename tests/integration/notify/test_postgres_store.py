"""Notify's store and delivery log on a real PostgreSQL server: idempotency and crash safety."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.postgres
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
TITLE = 'Zoë’s “trial” of 5\\10 mg: a "pilot"'  # the database reads it out of the item's JSON


def test_crash_and_restart_on_postgres(make, ev, recording, postgres_url) -> None:  # type: ignore[no-untyped-def]
    subscribers = [f"s{i}" for i in range(4)]
    crashing = recording(fail_after=1)
    n, _ = make(crashing, database_url=postgres_url)
    n.handle(ev.classified("doi:1", title=TITLE))
    for sid in subscribers:
        profile = ev.profile(sid)
        n.handle(profile)
        n.handle(profile)  # redelivered
        n.handle(ev.matched(sid, "doi:1"))
    with pytest.raises(RuntimeError):
        n.run_due(MONDAY_8)
    n.close()

    n2, fresh = make(database_url=postgres_url)
    n2.run_due(MONDAY_8)
    assert sorted(m.recipient for m in crashing.sent + fresh.sent) == sorted(f"{s}@example.nhs.uk" for s in subscribers)
    assert n2.run_due(MONDAY_8 + timedelta(days=1)) == []
    assert sorted(e.subscriber_id for e in n2.outbox()) == subscribers
    assert {tuple(e.item_titles) for e in n2.outbox()} == {(TITLE,)}
    sent = n2.log.of_subscriber("s0")[0]
    assert sent.status == "sent" and sent.sent_at == MONDAY_8 and sent.sent_at.tzinfo is not None
