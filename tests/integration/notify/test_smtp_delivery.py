"""Digests delivered to a real SMTP server on loopback: content, headers, structure, no duplicates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from urllib.parse import quote

import pytest

from services.notify.bootstrap import build_notifier, build_transport

# the loopback server takes a login without TLS on purpose (TLS has its own test below)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


def feed(n, ev) -> None:  # type: ignore[no-untyped-def]
    n.handle(ev.profile("asha", name="Dr Asha Khan"))
    n.handle(ev.classified("doi:1", title="Apixaban versus warfarin in atrial fibrillation",
                           summary="We compared two anticoagulants. Apixaban reduced stroke. Bleeding was lower. Extra."))
    n.handle(ev.matched("asha", "doi:1", reason="Anticoagulation for stroke prevention in AF"))
    n.handle(ev.classified("doi:2", title='Hostile <script>alert(1)</script>item', url="javascript:alert(1)"))
    n.handle(ev.matched("asha", "doi:2", score=0.5, reason="Heart failure"))


def test_digest_over_smtp_with_login(settings, ev, smtp_server) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp_server
    s = settings.model_validate(settings.model_dump() | {
        "smtp_url": f"smtp://horizon:{quote('p@ss word')}@127.0.0.1:{port}", "smtp_backoff_s": 0,
    })
    n = build_notifier(s)
    feed(n, ev)
    [sent] = n.run_due(MONDAY_8)
    assert n.run_due(MONDAY_8 + timedelta(hours=1)) == []
    n.close()

    [envelope] = inbox.envelopes
    assert inbox.logins == ["horizon"]
    assert envelope.mail_from == "evidence@library.example.org" and envelope.rcpt_tos == ["asha@example.nhs.uk"]
    msg = message_from_bytes(envelope.original_content, policy=policy.default)
    assert msg["Message-ID"] == sent.message_id and msg["Message-ID"].endswith("@library.example.org>")
    assert msg["To"] == "Dr Asha Khan <asha@example.nhs.uk>"
    assert msg["Subject"] == "Apixaban versus warfarin in atrial fibrillation, and 1 more"  # names the top item
    unsubscribe = msg["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://horizon.example.org/s/self/") and unsubscribe.endswith("/unsubscribe>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "Apixaban versus warfarin in atrial fibrillation" in part
        assert "Apixaban reduced stroke. Bleeding was lower." in part and "We compared" not in part  # findings, not aims
        assert "Anticoagulation for stroke prevention in AF" in part
        assert "Hostile item" in part and "<script" not in part and "javascript:" not in part
    assert text.count("Apixaban reduced stroke.") == 1


def test_starttls_and_login_settings_are_used(settings, ev, tls_smtp_server) -> None:  # type: ignore[no-untyped-def]
    inbox, port, ca = tls_smtp_server
    s = settings.model_validate(settings.model_dump() | {
        "smtp_url": f"smtp://horizon:{quote('p@ss word')}@127.0.0.1:{port}?starttls=1&cafile={ca}", "smtp_backoff_s": 0,
    })
    n = build_notifier(s)
    feed(n, ev)
    [sent] = n.run_due(MONDAY_8)
    n.close()
    assert [message_from_bytes(e.original_content)["Message-ID"] for e in inbox.envelopes] == [sent.message_id]
    assert inbox.logins == ["horizon"]


def test_server_down_keeps_the_intent_and_a_later_run_delivers(settings, ev, smtp_server) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp_server
    creds = f"horizon:{quote('p@ss word')}"
    down = settings.model_validate(settings.model_dump() | {"smtp_url": f"smtp://{creds}@127.0.0.1:1", "smtp_backoff_s": 0, "smtp_retries": 2})
    n = build_notifier(down)
    feed(n, ev)
    assert n.run_due(MONDAY_8) == []
    [row] = n.log.of_subscriber("asha")
    assert row.status == "sending" and row.attempts == 1 and row.last_error
    n.transport = build_transport(down.model_validate(down.model_dump() | {"smtp_url": f"smtp://{creds}@127.0.0.1:{port}"}))
    [sent] = n.run_due(MONDAY_8 + timedelta(minutes=10))
    n.close()
    assert [message_from_bytes(e.original_content)["Message-ID"] for e in inbox.envelopes] == [sent.message_id]
