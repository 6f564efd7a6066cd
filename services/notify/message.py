"""Build the RFC 5322 message that goes out: headers, multipart/alternative text + HTML (inside
multipart/mixed when there are attachments, such as the board briefing's PDF). Pure.

The Message-ID is derived from the delivery key (subscriber, kind, period), so the same digest
always carries the same id: a resend after a crash can be recognised as the same message.

The email package builds a message in about 3 ms, most of it parsing and folding headers whose
values are plain already. A digest's message is always the same shape, so it is written out
directly, header by header, giving the bytes the email package gives (tested against it): a
header value that is not plain ASCII text (a name with accents, a long subject) is still
folded and encoded by the email package, and a message with attachments is built by it whole.
"""

from __future__ import annotations

import binascii
import random
import re
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
from email import contentmanager, quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

# Long header lines (signed unsubscribe URLs) must stay plain ASCII, not RFC 2047-encoded words.
_POLICY = SMTP.clone(max_line_length=998, cte_type="7bit")

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
    attachments: Sequence[tuple[str, str, bytes]] = (), boundary: str | None = None,
    inline: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """The exact bytes SMTP carries (CRLF line ends), as also written to the outbox.

    `boundary` fixes the MIME boundary (tests); by default it is random, as the email package's.
    """
    if attachments or inline:
        return email_package_message(
            sender_name=sender_name, sender=sender, to_name=to_name, to=to, subject=subject, text=text, html=html,
            message_id=message_id, date=date, list_unsubscribe=list_unsubscribe, kind=kind,
            attachments=attachments, boundary=boundary, inline=inline,
        )
    text_cte, text_body = _encode_text(text)
    html_cte, html_body = _encode_text(html)
    bodies = text_body + html_body
    boundary = boundary or _boundary(bodies)
    head = b"".join([
        _address_header("From", sender_name, sender),
        _address_header("To", to_name, to),
        _header("Subject", subject),
        _header("Date", format_datetime(date)),
        _header("Message-ID", message_id),
        _header("List-Unsubscribe", f"<{list_unsubscribe}>"),
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        b"Auto-Submitted: auto-generated\r\n",
        _header("X-Horizon-Kind", kind),
        b"MIME-Version: 1.0\r\n",
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode("ascii"),
    ])
    return b"".join([
        head, b"\r\n",
        f"--{boundary}\r\n".encode("ascii"),
        f'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: {text_cte}\r\n\r\n'.encode("ascii"),
        _crlf(text_body),
        f"\r\n--{boundary}\r\n".encode("ascii"),
        f'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: {html_cte}\r\nMIME-Version: 1.0\r\n\r\n'.encode("ascii"),
        _crlf(html_body),
        f"\r\n--{boundary}--\r\n".encode("ascii"),
    ])


# A value written as it is: printable ASCII words single-spaced, nothing that reads as an
# encoded word, short enough not to fold.
_PLAIN = re.compile(r"(?!.*=\?)[!-~]+( [!-~]+)*")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+([ '-][A-Za-z0-9]+)*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(\.{_ATOM})*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


def _header(name: str, value: str) -> bytes:
    if len(name) + 2 + len(value) <= _POLICY.max_line_length and _PLAIN.fullmatch(value):
        return f"{name}: {value}\r\n".encode("ascii")
    return _folded(name, value)


def _address_header(name: str, display_name: str, address: str) -> bytes:
    if _PLAIN_NAME.fullmatch(display_name) and _PLAIN_ADDRESS.fullmatch(address) and len(display_name) + len(address) < 900:
        return f"{name}: {display_name} <{address}>\r\n".encode("ascii")
    return _folded(name, Address(display_name=display_name, addr_spec=address))


def _folded(name: str, value: object) -> bytes:
    """One header as the email package writes it (encoded, folded); ValueError if it refuses it."""
    return _POLICY.fold_binary(name, _POLICY.header_store_parse(name, value)[1])


# Quoted-printable as the email package writes it (email.quoprimime.body_encode), but with the
# octets that need escaping found by a regular expression rather than str.translate over every
# character, which cost more than all the rest of building a message.
_QP_MAP = quoprimime._QUOPRI_BODY_ENCODE_MAP
# '=' (in every HTML attribute) is replaced in one pass; the other escapes are rare
_QP_ESCAPE = re.compile("[" + "".join(re.escape(chr(c)) for c in range(256) if _QP_MAP[c] != chr(c) and c != ord("=")) + "]+")


def _qp_escape(run: re.Match[str]) -> str:  # a run at a time: non-ASCII text escapes in runs of octets
    return "".join([_QP_MAP[ord(c)] for c in run.group()])


def _qp_body(body: str, maxlinelen: int) -> str:
    """email.quoprimime.body_encode(body, maxlinelen), the same string, faster."""
    if not body:
        return body
    body = _QP_ESCAPE.sub(_qp_escape, body.replace("=", _QP_MAP[ord("=")]))
    soft_break = "=\n"
    maxlinelen1 = maxlinelen - 1
    encoded: list[str] = []
    for line in body.splitlines():
        start = 0
        laststart = len(line) - 1 - maxlinelen
        while start <= laststart:
            stop = start + maxlinelen1
            if line[stop - 2] == "=":  # never split an escape
                encoded.append(line[start : stop - 1])
                start = stop - 2
            elif line[stop - 1] == "=":
                encoded.append(line[start:stop])
                start = stop - 1
            else:
                encoded.append(line[start:stop] + "=")
                start = stop
        if line and line[-1] in " \t":  # whitespace at the end of a line is quoted
            room = start - laststart
            if room >= 3:
                q = quoprimime.quote(line[-1])
            elif room == 2:
                q = line[-1] + soft_break
            else:
                q = soft_break + quoprimime.quote(line[-1])
            encoded.append(line[start:-1] + q)
        else:
            encoded.append(line[start:])
    if body[-1] in "\r\n":
        encoded.append("")
    return "\n".join(encoded)


def _encode_text(string: str) -> tuple[str, str]:
    """(transfer encoding, body) as email.contentmanager chooses them for a utf-8 text part."""
    lines = string.encode("utf-8").splitlines()
    limit = _POLICY.max_line_length
    if max((len(x) for x in lines), default=0) <= limit:
        try:
            return "7bit", (b"\n".join(lines) + b"\n").decode("ascii")
        except UnicodeDecodeError:
            pass
    sniff = b"\r\n".join(lines[:10]) + b"\r\n"
    sniff_qp = _qp_body(sniff.decode("latin-1"), limit)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        return "base64", contentmanager._encode_base64(b"\r\n".join(lines) + b"\r\n", limit)
    if len(lines) <= 10:
        return "quoted-printable", sniff_qp
    return "quoted-printable", _qp_body((b"\n".join(lines) + b"\n").decode("latin-1"), limit)


def _crlf(body: str) -> bytes:
    return body.encode("ascii", "surrogateescape").replace(b"\n", b"\r\n")


def _boundary(bodies: str) -> str:
    """A random boundary in the email package's style that no line of the bodies starts with."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if f"--{boundary}" not in bodies:
            return boundary


def email_package_message(
    *, sender_name: str, sender: str, to_name: str, to: str, subject: str, text: str, html: str,
    message_id: str, date: datetime, list_unsubscribe: str, kind: str,
    attachments: Sequence[tuple[str, str, bytes]] = (), boundary: str | None = None,
    inline: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """The message built by the email package, header by header (what build_message matches)."""
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
    if inline:  # images the HTML shows by cid: the HTML part becomes multipart/related
        html_part = msg.get_body(preferencelist=("html",))
        for content_id, content_type, data in inline:
            maintype, _, subtype = content_type.partition("/")
            html_part.add_related(data, maintype=maintype, subtype=subtype, cid=f"<{content_id}>", disposition="inline")
    for filename, content_type, data in attachments:  # the alternatives become the first part of multipart/mixed
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    if boundary is not None:
        msg.set_boundary(boundary)
    return msg.as_bytes()
