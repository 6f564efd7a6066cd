"""Build the RFC 5322 message that goes out: headers, multipart/alternative text + HTML (inside
multipart/mixed when there are attachments, such as the board briefing's PDF). Pure.

The Message-ID is derived from the delivery key (subscriber, kind, period), so the same digest
always carries the same id: a resend after a crash can be recognised as the same message.

The email package builds a message in about 3 ms, most of it parsing and folding headers whose
values are plain already. A digest's message is always the same shape, so it is written out
directly, header by header, giving the headers the email package gives, byte for byte, and the
same parts once decoded (tested against it): a header value that is not plain ASCII text (a name
with accents, a long subject) is still folded and encoded by the email package, and a message
with attachments is built by it whole. Bodies are encoded as RFC 2045 has them (below).
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
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
    html_cte, html_body = _encode_text(_html_for_7bit(html))
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


# An attribute's start: a line of HTML can break at the space before one (after a quoted value)
# and the page is the same.
_ATTRIBUTE = re.compile(r'[a-z-]+="')
_STYLE = re.compile(r"<style.*?</style>", re.S | re.I)


def _attribute_gap(line: str, limit: int) -> int:
    """The last such space before `limit`, or -1."""
    pos = limit
    while (pos := line.rfind('" ', 0, pos)) > 0:
        if _ATTRIBUTE.match(line, pos + 2):
            return pos + 1
    return -1


def _html_for_7bit(html: str) -> str:
    """The same page in ASCII lines SMTP carries as they are: every other character as a
    character reference, lines over 998 octets broken between a tag's attributes. A page whose
    <style> holds other characters (where references are not read), or with a line that has no
    such place to break, is left as it is, to be encoded."""
    if any(not block.isascii() for block in _STYLE.findall(html)):
        return html
    html = html.encode("ascii", "xmlcharrefreplace").decode("ascii")
    limit = _POLICY.max_line_length
    if all(len(line) <= limit for line in html.splitlines()):
        return html
    lines: list[str] = []
    for line in html.splitlines():
        while len(line) > limit and (gap := _attribute_gap(line, limit)) > 0:
            lines.append(line[:gap])
            line = line[gap + 1 :]
        lines.append(line)
    return "\n".join(lines) + ("\n" if html.endswith(("\n", "\r")) else "")


def _encode_text(string: str) -> tuple[str, str]:
    """(transfer encoding, body with LF line ends) of a utf-8 text part: 7bit when it is ASCII in
    lines SMTP carries as they are (998 octets), otherwise the shorter of quoted-printable and
    base64, both in lines of 76 (RFC 2045) and both encoded in C. (The email package chooses from
    its first ten lines and writes quoted-printable lines up to the policy's 998; encoding that
    in Python cost more than all the rest of building a message.)"""
    data = string.encode("utf-8")
    lines = data.splitlines()
    if max((len(x) for x in lines), default=0) <= _POLICY.max_line_length and data.isascii():
        return "7bit", (b"\n".join(lines) + b"\n").decode("ascii")
    qp = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    b64 = base64.encodebytes(b"\r\n".join(lines) + b"\r\n")  # base64 carries text in its canonical CRLF form
    return ("quoted-printable", qp.decode("ascii")) if len(qp) <= len(b64) else ("base64", b64.decode("ascii"))


def _crlf(body: str) -> bytes:
    return body.encode("ascii").replace(b"\n", b"\r\n")


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
