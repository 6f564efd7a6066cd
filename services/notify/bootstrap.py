"""The composition root: build the Notifier and its adapters from settings."""

from __future__ import annotations

from services.notify.links import build_links
from services.notify.mailer import OutboxTransport, SmtpProcess, SmtpTransport, Transport, parse_smtp_url
from services.notify.notifier import Notifier
from services.notify.ownership import Ownership
from services.notify.settings import NotifySettings
from services.notify.store import NotifyStore


def build_transport(settings: NotifySettings) -> Transport:
    """SMTP when a URL is set (its connections in a process of their own unless smtp_process is
    off), else the outbox folder."""
    url = settings.smtp_url.get_secret_value()
    if not url:
        return OutboxTransport(settings.outbox_dir)
    config = parse_smtp_url(url, timeout_s=settings.smtp_timeout_s)
    smtp = SmtpProcess if settings.smtp_process else SmtpTransport
    return smtp(config, retries=settings.smtp_retries, backoff_s=settings.smtp_backoff_s, connections=settings.smtp_connections)


def build_notifier(
    settings: NotifySettings | None = None, *, transport: Transport | None = None, ownership: Ownership | None = None,
) -> Notifier:
    """A Notifier; `ownership` says which subscribers it schedules (default: all of them)."""
    settings = settings or NotifySettings()
    return Notifier(
        settings, NotifyStore(settings.database_url), transport or build_transport(settings), build_links(settings),
        ownership,
    )
