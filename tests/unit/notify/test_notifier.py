"""The notify use cases over a real SQLite store and a recording transport."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes

import pytest

from contracts import DigestSent, Frequency, Weekday
from services.notify.mailer import SendResult

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
MONDAY_6 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)


def subjects(transport) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(m.recipient, message_from_bytes(m.raw)["Subject"]) for m in transport.sent]


def test_digest_includes_only_classified_items(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha"))
    n.handle(ev.matched("asha", "doi:1"))
    n.handle(ev.classified("doi:1", title='Zoë’s “trial” of 5\\10 mg: a "pilot"'))
    n.handle(ev.classified("doi:2", title="Falls in care homes"))
    n.handle(ev.matched("asha", "doi:2"))
    n.handle(ev.matched("asha", "doi:3"))
    [sent] = n.run_due(MONDAY_8)
    assert sent.kind == "digest" and sent.period == "2026-W48"
    assert sorted(sent.item_ids) == ["doi:1", "doi:2"]
    titles = dict(zip(sent.item_ids, sent.item_titles))  # a librarian's delivery log shows them
    assert titles == {"doi:1": 'Zoë’s “trial” of 5\\10 mg: a "pilot"', "doi:2": "Falls in care homes"}
    # doi:3 arrives later: it waits for next week's digest, not a second one this week
    n.handle(ev.classified("doi:3"))
    assert n.run_due(MONDAY_8 + timedelta(hours=3)) == []
    [nxt] = n.run_due(MONDAY_8 + timedelta(days=7))
    assert nxt.period == "2026-W49" and nxt.item_ids == ["doi:3"]
    assert len(t.sent) == 2


def test_events_are_idempotent(make, ev) -> None:
    n, t = make()
    events = [ev.profile("asha"), ev.matched("asha", "doi:1"), ev.classified("doi:1")]
    for e in events + events:
        n.handle(e)
    [sent] = n.run_due(MONDAY_8)
    assert sent.item_ids == ["doi:1"]
    assert n.run_due(MONDAY_8) == []


def test_nothing_sent_when_nothing_matched_or_not_due(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:1"))
    assert n.run_due(MONDAY_8) == []
    n.handle(ev.matched("asha", "doi:1"))
    assert n.run_due(MONDAY_6) == []  # before 07:00 London on Monday
    assert len(n.run_due(MONDAY_8)) == 1 and len(t.sent) == 1


def test_unknown_inactive_and_deleted_subscribers_get_nothing(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("off", active=False))
    n.handle(ev.profile("gone"))
    n.handle(ev.tombstone("gone", version=2))
    n.handle(ev.profile("gone", version=1))  # stale: does not resurrect
    n.handle(ev.classified("doi:1"))
    for sid in ("off", "gone", "stranger"):
        n.handle(ev.matched(sid, "doi:1"))
    assert n.run_due(MONDAY_8, force=True) == []
    assert t.sent == []


def test_tombstone_deletes_the_subscribers_state(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:1"))
    n.handle(ev.matched("asha", "doi:1"))
    n.handle(ev.tombstone("asha"))
    assert n.store.pending() == {}
    assert n.store.profile("asha") is None
    n.handle(ev.profile("asha", version=3))  # re-created later: starts empty
    assert n.run_due(MONDAY_8) == []


def test_urgent_items_go_at_once_to_those_who_want_them(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha"))
    n.handle(ev.profile("ben", urgent_alerts=False))
    n.handle(ev.classified("alert:1", urgent=True, title="MHRA: recall of batch X"))
    n.handle(ev.classified("doi:2"))
    for sid in ("asha", "ben"):
        n.handle(ev.matched(sid, "alert:1"))
        n.handle(ev.matched(sid, "doi:2"))
    sent = n.run_due(MONDAY_6)  # before the weekly hour: only the alert goes
    assert [(s.subscriber_id, s.kind, s.item_ids) for s in sent] == [("asha", "alert", ["alert:1"])]
    assert subjects(t) == [("asha@example.nhs.uk", "Urgent: MHRA: recall of batch X")]
    assert n.run_due(MONDAY_6) == []  # alerted once
    weekly = {s.subscriber_id: s.item_ids for s in n.run_due(MONDAY_8)}
    assert weekly == {"asha": ["doi:2"], "ben": ["alert:1", "doi:2"]}


def test_urgent_flag_on_the_match_alone_is_enough(make, ev) -> None:
    n, _ = make()
    n.handle(ev.profile("asha"))
    n.handle(ev.matched("asha", "doi:9", urgent=True))
    n.handle(ev.classified("doi:9"))
    [sent] = n.run_due(MONDAY_6)
    assert sent.kind == "alert"


def test_force_sends_pending_now_and_again_for_new_items(make, ev) -> None:
    n, t = make()
    EARLY_NOV = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)  # before the first Friday
    n.handle(ev.profile("asha", frequency=Frequency.monthly, weekday=Weekday.friday))
    n.handle(ev.classified("doi:1"))
    n.handle(ev.matched("asha", "doi:1"))
    assert n.run_due(EARLY_NOV) == []
    [first] = n.run_due(EARLY_NOV, force=True)
    assert first.period == "2026-11"
    n.handle(ev.classified("doi:2"))
    n.handle(ev.matched("asha", "doi:2"))
    [second] = n.run_due(EARLY_NOV, force=True)
    assert second.period == "2026-11.2" and second.item_ids == ["doi:2"]
    assert n.run_due(EARLY_NOV, force=True) == []


def test_digest_is_capped_and_overflow_not_resent(make, ev, caplog) -> None:
    caplog.set_level("INFO", logger="services.notify.compose")
    n, t = make(max_items=2)
    n.handle(ev.profile("asha"))
    for i in range(5):
        n.handle(ev.classified(f"doi:{i}"))
        n.handle(ev.matched("asha", f"doi:{i}", score=0.5 + i / 10))
    [sent] = n.run_due(MONDAY_8)
    assert sent.item_ids == ["doi:4", "doi:3"]
    assert "3 more matched items" in t.sent[0].html
    [capped] = [r for r in caplog.records if r.getMessage().startswith("digest capped")]
    assert (capped.subscriber_id, capped.shown, capped.more) == ("asha", 2, 3)  # the limit said, not silent
    assert n.run_due(MONDAY_8 + timedelta(days=7)) == []


def test_daily_digest_once_in_the_repeated_autumn_hour(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha", frequency=Frequency.daily, hour=1))
    n.handle(ev.classified("doi:1"))
    n.handle(ev.matched("asha", "doi:1"))
    assert n.run_due(datetime(2026, 10, 24, 23, 30, tzinfo=timezone.utc)) == []
    [sent] = n.run_due(datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc))  # 01:30 BST
    assert sent.period == "2026-10-25"
    n.handle(ev.classified("doi:2"))
    n.handle(ev.matched("asha", "doi:2"))
    assert n.run_due(datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)) == []  # 01:30 GMT, same day
    [nxt] = n.run_due(datetime(2026, 10, 26, 1, 0, tzinfo=timezone.utc))
    assert nxt.period == "2026-10-26"


def test_crash_mid_run_then_restart_sends_each_once(make, ev, recording) -> None:
    subscribers = [f"s{i}" for i in range(6)]
    crashing = recording(fail_after=2)
    n, _ = make(crashing)
    n.handle(ev.classified("doi:1"))
    for sid in subscribers:
        n.handle(ev.profile(sid))
        n.handle(ev.matched(sid, "doi:1"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        n.run_due(MONDAY_8)
    n.close()
    assert len(crashing.sent) == 2

    n2, fresh = make()  # a new process over the same database
    sent = n2.run_due(MONDAY_8)
    delivered = [m.recipient for m in crashing.sent + fresh.sent]
    assert sorted(delivered) == sorted(f"{sid}@example.nhs.uk" for sid in subscribers)
    assert {s.subscriber_id for s in sent} == set(subscribers) - {m.recipient.split("@")[0] for m in crashing.sent}
    assert n2.run_due(MONDAY_8 + timedelta(hours=1)) == []


def test_crash_between_send_and_record_resends_the_same_message(make, ev, recording) -> None:
    class SendThenDie(recording):  # type: ignore[misc,valid-type]
        def send(self, message):  # type: ignore[no-untyped-def]
            self.sent.append(message)
            raise RuntimeError("simulated crash after the server said 250")

    first = SendThenDie()
    n, _ = make(first)
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:1"))
    n.handle(ev.matched("asha", "doi:1"))
    with pytest.raises(RuntimeError):
        n.run_due(MONDAY_8)
    n2, again = make()
    [sent] = n2.run_due(MONDAY_8 + timedelta(minutes=5))
    # the same bytes, so the same Message-ID: the receiving side can drop the duplicate
    assert again.sent[0].raw == first.sent[0].raw
    assert message_from_bytes(again.sent[0].raw)["Message-ID"] == sent.message_id
    assert n2.run_due(MONDAY_8 + timedelta(minutes=10)) == []


def test_failed_sends_are_retried_later_and_permanent_ones_recorded(make, ev, recording) -> None:
    flaky = recording(results=[SendResult(ok=False, error="421 try later")])
    n, _ = make(flaky)
    n.handle(ev.profile("asha"))
    n.handle(ev.profile("bad"))
    n.handle(ev.classified("doi:1"))
    n.handle(ev.matched("asha", "doi:1"))
    assert n.run_due(MONDAY_8) == []
    assert n.run_due(MONDAY_8 + timedelta(seconds=1)) == []  # backing off
    [sent] = n.run_due(MONDAY_8 + timedelta(minutes=5))
    assert sent.subscriber_id == "asha" and len(flaky.sent) == 1

    flaky.results.append(SendResult(ok=False, error="550 no such user", permanent=True))
    n.handle(ev.matched("bad", "doi:1"))
    assert n.run_due(MONDAY_8) == []
    [row] = n.log.of_subscriber("bad")
    assert row.status == "failed" and "550" in row.last_error
    assert n.run_due(MONDAY_8 + timedelta(days=1)) == []


def test_outbox_holds_digest_sent_until_published(make, ev) -> None:
    n, _ = make()
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:1"))
    n.handle(ev.matched("asha", "doi:1"))
    [sent] = n.run_due(MONDAY_8)
    [pending] = n.outbox()
    assert isinstance(pending, DigestSent) and pending.event_id == sent.event_id
    n.mark_published([pending])
    assert n.outbox() == []


def test_an_item_not_in_english_says_so(make, ev) -> None:
    from email import policy

    n, t = make()
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:de", title="Vorhofflimmern im Alter", language="de"))
    n.handle(ev.classified("doi:en", title="Atrial fibrillation in older people", language="en"))
    n.handle(ev.classified("doi:xx", title="An item in an unlisted language", language="qu"))
    for item_id in ("doi:de", "doi:en", "doi:xx"):
        n.handle(ev.matched("asha", item_id))
    n.run_due(MONDAY_8)
    msg = message_from_bytes(t.sent[0].raw, policy=policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    lines = text.splitlines()
    meta = {lines[i - 1]: lines[i] for i, line in enumerate(lines) if line.startswith("BMJ")}
    assert meta["[Trial] Vorhofflimmern im Alter"].endswith(" - In German")
    assert not meta["[Trial] Atrial fibrillation in older people"].endswith("English")
    assert meta["[Trial] An item in an unlisted language"].endswith(" - Not in English")
    assert html.count("In German") == 1 and "Not in English" in html


def _stored(n, subscriber_id: str):  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from services.notify.tables import DeliveryRow

    with n.store.session() as s:
        return s.exec(select(DeliveryRow).where(DeliveryRow.subscriber_id == subscriber_id)).one()


def test_a_sent_delivery_keeps_its_facts_not_its_message(make, ev) -> None:
    n, t = make()
    for e in (ev.profile("asha"), ev.classified("doi:1"), ev.matched("asha", "doi:1")):
        n.handle(e)
    [sent] = n.run_due(MONDAY_8)
    row = _stored(n, "asha")
    assert row.status == "sent" and row.raw == b"" and row.html == ""
    assert row.message_id == sent.message_id and row.item_ids == ["doi:1"] and row.recipient
    assert len(t.sent[0].raw) > 1000  # what went out was the whole message


def test_keep_sent_messages_keeps_the_bytes_that_went_out(make, ev) -> None:
    n, t = make(keep_sent_messages=True)
    for e in (ev.profile("asha"), ev.classified("doi:1"), ev.matched("asha", "doi:1")):
        n.handle(e)
    n.run_due(MONDAY_8)
    assert _stored(n, "asha").raw == t.sent[0].raw


def test_a_delivery_not_yet_sent_keeps_its_message_for_the_retry(make, ev, recording) -> None:
    class Down(recording):  # type: ignore[misc,valid-type]
        def send(self, message):  # type: ignore[no-untyped-def]
            return SendResult(ok=False, error="421 try later")

    n, _ = make(Down())
    for e in (ev.profile("asha"), ev.classified("doi:1"), ev.matched("asha", "doi:1")):
        n.handle(e)
    assert n.run_due(MONDAY_8) == []
    row = _stored(n, "asha")
    assert row.status == "sending" and len(row.raw) > 1000
    n2, again = make()
    [sent] = n2.run_due(MONDAY_8 + timedelta(hours=2))
    assert again.sent[0].raw == row.raw and _stored(n2, "asha").raw == b""
