"""Settings: secrets fail fast outside dev mode; SMTP_URL is read and parsed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notify.bootstrap import build_transport
from services.notify.mailer import OutboxTransport, SmtpProcess, SmtpTransport, parse_smtp_url
from services.notify.settings import NotifySettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMTP_URL", "DATABASE_URL", "HORIZON_NOTIFY_SMTP_URL", "HORIZON_NOTIFY_DEV",
                 "HORIZON_NOTIFY_SECRET_KEY", "HORIZON_NOTIFY_SELF_SERVICE_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_default_secrets_are_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="HORIZON_NOTIFY_SECRET_KEY"):
        NotifySettings()
    monkeypatch.setenv("HORIZON_NOTIFY_SECRET_KEY", "s" * 32)
    with pytest.raises(ValidationError, match="HORIZON_NOTIFY_SELF_SERVICE_SECRET"):
        NotifySettings()
    monkeypatch.setenv("HORIZON_NOTIFY_SELF_SERVICE_SECRET", "t" * 32)
    assert NotifySettings().secret_key.get_secret_value() == "s" * 32
    monkeypatch.setenv("HORIZON_NOTIFY_DEV", "true")
    monkeypatch.delenv("HORIZON_NOTIFY_SECRET_KEY")
    assert NotifySettings().dev


def test_smtp_url_from_either_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HORIZON_NOTIFY_DEV", "true")
    assert isinstance(build_transport(NotifySettings()), OutboxTransport)
    monkeypatch.setenv("SMTP_URL", "smtp://relay.example.org:2525")
    assert NotifySettings().smtp_url.get_secret_value() == "smtp://relay.example.org:2525"
    monkeypatch.setenv("HORIZON_NOTIFY_SMTP_URL", "smtp://u:p@mail.example.org?starttls=1")
    transport = build_transport(NotifySettings())  # its connections in a process of their own (not started yet)
    assert isinstance(transport, SmtpProcess) and transport.config.host == "mail.example.org"
    monkeypatch.setenv("HORIZON_NOTIFY_SMTP_PROCESS", "false")
    transport = build_transport(NotifySettings())
    assert isinstance(transport, SmtpTransport) and transport.config.host == "mail.example.org"
    assert "p@" not in repr(NotifySettings())  # the password stays secret


def test_parse_smtp_url() -> None:
    c = parse_smtp_url("smtp://user%40nhs.net:p%3Ass@smtp.example.org:587?starttls=1")
    assert (c.host, c.port, c.username, c.password, c.start_tls, c.use_tls) == ("smtp.example.org", 587, "user@nhs.net", "p:ss", True, False)
    assert parse_smtp_url("smtps://smtp.example.org").port == 465 and parse_smtp_url("smtps://smtp.example.org").use_tls
    assert parse_smtp_url("smtp://localhost").port == 25 and parse_smtp_url("smtp://localhost").start_tls is None
    assert parse_smtp_url("smtp://h:1025?starttls=0").start_tls is False
    with pytest.raises(ValueError):
        parse_smtp_url("http://example.org")
