"""E-mails subscriptions sends itself: the self-service links a subscriber asks for.

1. `request_link` records the e-mail (an intent, `mail_outbox`) in the request's transaction,
   at most one per subscriber and purpose every `interval_s`, so that nobody can flood a
   mailbox through a forwarded preferences link;
2. the FastStream app's loop calls `send_pending`, which builds each message and hands it to
   the transport: SMTP (`SMTP_URL`, the same server notify uses) or, without one, `.eml` files
   in the outbox folder, as notify does. Once sent, the body (which holds the link) is cleared.

A row that fails is tried again on the next round, up to MAX_ATTEMPTS; a crash between sending
and marking sends it once more (a second copy of a link is harmless).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlmodel import Session, select

from services.subscriptions.models import MailRow, Subscriber, now
from services.subscriptions.settings import SubscriptionsSettings
from services.subscriptions.store import SessionFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
SUBJECTS = {"export": "Your link to download your data", "delete": "Your link to delete your data"}
_DOING = {"export": "download a copy of", "delete": "delete"}


def link_body(name: str, purpose: str, url: str, valid_minutes: int) -> str:
    """The plain-text message that carries one link."""
    return (
        f"Hello {name},\n\n"
        f"You asked for a link to {_DOING[purpose]} everything held about you for your evidence updates.\n"
        f"It works for {valid_minutes} minutes:\n\n{url}\n\n"
        "If you did not ask for it, ignore this e-mail: nothing changes unless the link is used.\n"
    )


def request_link(db: Session, sub: Subscriber, purpose: str, url: str, valid_minutes: int, interval_s: int,
                 at: datetime) -> bool:
    """Queue the e-mail of one link to the subscriber's own address; False if one went out lately."""
    recent = db.exec(select(MailRow.id).where(
        MailRow.subscriber_id == sub.id, MailRow.purpose == purpose, MailRow.created_at > at - timedelta(seconds=interval_s),
    )).first()
    if recent is not None:
        log.info("link e-mail not queued: one was sent lately", extra={"subscriber_id": sub.id, "purpose": purpose})
        return False
    db.add(MailRow(subscriber_id=sub.id, purpose=purpose, recipient=sub.email, subject=SUBJECTS[purpose],
                   body=link_body(sub.name, purpose, url, valid_minutes), created_at=at))
    db.commit()
    log.info("link e-mail queued", extra={"subscriber_id": sub.id, "purpose": purpose})
    return True


def build(row: MailRow, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "horizon.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    return message


class Transport(Protocol):
    def send(self, message: EmailMessage) -> str | None:
        """None when sent, else why not."""


@dataclass(frozen=True)
class SmtpTransport:
    """smtp://user:pass@host:port?starttls=1 (smtps:// for implicit TLS), as notify reads it."""

    url: str
    timeout_s: float = 30.0

    def send(self, message: EmailMessage) -> str | None:
        parts = urlsplit(self.url)
        flags = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        port = parts.port or (465 if implicit else 25)
        context = ssl.create_default_context(cafile=parse_qs(parts.query).get("cafile", [None])[-1])
        try:
            smtp = (smtplib.SMTP_SSL(parts.hostname, port, timeout=self.timeout_s, context=context) if implicit
                    else smtplib.SMTP(parts.hostname, port, timeout=self.timeout_s))
            with smtp:
                if not implicit and flags.get("starttls") in ("1", "true", "yes", "on"):
                    smtp.starttls(context=context)
                if parts.username:
                    smtp.login(unquote(parts.username), unquote(parts.password or ""))
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


@dataclass(frozen=True)
class FolderTransport:
    """Writes each message as an `.eml` file (no SMTP server configured: development, demos)."""

    folder: Path

    def send(self, message: EmailMessage) -> str | None:
        name = "self-service_" + message["Message-ID"].strip("<>").replace("@", "_").replace("/", "-") + ".eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_bytes(message.as_bytes())
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


def transport_for(settings: SubscriptionsSettings) -> Transport:
    """SMTP when the settings name a server, else the outbox folder."""
    url = settings.smtp_url.get_secret_value()
    if url:
        if urlsplit(url).scheme not in ("smtp", "smtps") or not urlsplit(url).hostname:
            raise ValueError("SMTP URL must look like smtp://user:pass@host:port?starttls=1")
        return SmtpTransport(url, settings.http_timeout_s)
    return FolderTransport(Path(settings.outbox_dir))


def send_pending(sessions: SessionFactory, transport: Transport, sender: str, limit: int = 20) -> int:
    """Send up to `limit` queued e-mails; how many went."""
    sent = 0
    with sessions() as db:
        rows = db.exec(select(MailRow).where(MailRow.sent_at.is_(None), MailRow.attempts < MAX_ATTEMPTS)  # type: ignore[union-attr]
                       .order_by(MailRow.id).limit(limit)).all()
        for row in rows:
            error = transport.send(build(row, sender))
            if error:
                row.attempts, row.last_error = row.attempts + 1, error[:600]
                log.warning("link e-mail not sent, will retry", extra={"subscriber_id": row.subscriber_id, "error": error})
            else:
                row.sent_at, row.body = now(), ""
                sent += 1
                log.info("link e-mail sent", extra={"subscriber_id": row.subscriber_id, "purpose": row.purpose})
            db.add(row)
            db.commit()
    return sent
