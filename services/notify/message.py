"""Build the RFC 5322 message that goes out: headers, multipart/alternative text + HTML (inside
multipart/mixed when there are attachments, such as the board briefing's PDF). Pure.

The Message-ID is derived from the delivery key (subscriber, kind, period), so the same digest
always carries the same id: a resend after a crash can be recognised as the same message.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

# Long header lines (signed unsubscribe URLs) must stay plain ASCII, not RFC 2047-encoded words.
_POLICY = SMTP.clone(max_line_length=998, cte_type="7bit")
from email.utils import format_datetime

from contracts import derived_event_id

_NS = uuid.UUID("0b6b0c0e-8f4a-4c55-9d3c-6a4f2f4e9c21")


def delivery_id(subscriber_id: str, kind: str, period: str) -> str:
    """The deterministic id of one delivery (also the digest_id)."""
    return str(uuid.uuid5(_NS, f"{subscriber_id}\x1f{kind}\x1f{period}"))


def message_id(subscriber_id: str, kind: str, period: str, domain: str) -> str:
    return f"<{delivery_id(subscriber_id, kind, period)}@{domain}>"


def digest_sent_event_id(subscriber_id: str, kind: str, period: str) -> str:
    return derived_event_id("notify.digest-sent", subscriber_id, kind, period)


def build_message(
    *, sender_name: str, sender: str, to_name: str, to: str, subject: str, text: str, html: str,
    message_id: str, date: datetime, list_unsubscribe: str, kind: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """The exact bytes SMTP carries (CRLF line ends), as also written to the outbox."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = Address(display_name=sender_name, addr_spec=sender)
    msg["To"] = Address(display_name=to_name, addr_spec=to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["List-Unsubscribe"] = f"<{list_unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Horizon-Kind"] = kind
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    for filename, content_type, data in attachments:  # the alternatives become the first part of multipart/mixed
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
