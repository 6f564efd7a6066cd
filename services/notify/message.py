"""Build the RFC 5322 message that goes out: headers, multipart/alternative text + HTML (inside
multipart/mixed when there are attachments, such as the board briefing's PDF). Pure.

The Message-ID is derived from the delivery key (subscriber, kind, period), so the same digest
always carries the same id: a resend after a crash can be recognised as the same message.

The email package builds a message in about 3 ms, most of it parsing and folding headers whose
values are plain already, and under our header policy (998-octet lines, below) it writes encoded
bodies in lines of up to 998 octets too, where RFC 2045 allows 76. A message is always of the same
few shapes, so it is written out directly, header by header, giving the headers the email package
gives, byte for byte, and the same parts once decoded (tested against it): a header value that is
not plain ASCII text (a name with accents, a long subject, a file name) is still folded and encoded
by the email package. Bodies are encoded as RFC 2045 has them (below), attachments in base64.
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
from email.policy import SMTP
from email.utils import format_datetime, quote

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

    The text and the HTML are alternatives; images the HTML shows by cid (`inline`: content id,
    type, bytes) make the HTML part multipart/related, and `attachments` (file name, type, bytes)
    put the alternatives first in a multipart/mixed. `boundary` fixes the outermost MIME boundary
    (tests); by default it is random, as the email package's.
    """
    html_part = _text_part("html", _html_for_7bit(html))
    if inline:
        html_part = _multipart("related", [html_part, *(
            _binary_part(content_type, data, b"Content-Disposition: inline\r\n" + _header("Content-ID", f"<{content_id}>"))
            for content_id, content_type, data in inline
        )])
    top = _multipart("alternative", [_text_part("plain", text), html_part], None if attachments else boundary)
    if attachments:
        top = _multipart("mixed", [top, *(
            _binary_part(content_type, data, _folded("Content-Disposition", f'attachment; filename="{quote(filename)}"'))
            for filename, content_type, data in attachments
        )], boundary)
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
    ])
    return head + top[0] + b"\r\n" + top[1]


# A part: (its headers, its body), each line ending CRLF.
Part = tuple[bytes, bytes]


def _text_part(subtype: str, string: str) -> Part:
    cte, body = _encode_text(string)
    version = b"MIME-Version: 1.0\r\n" if subtype == "html" else b""  # where the email package writes it too
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n'
    return head.encode("ascii") + version, _crlf(body)


def _binary_part(content_type: str, data: bytes, disposition: bytes) -> Part:
    """Base64 in lines of 76 (RFC 2045)."""
    if not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError(f"not a content type: {content_type!r}")
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n".encode("ascii")
    return head + disposition, base64.encodebytes(data).replace(b"\n", b"\r\n")


def _multipart(subtype: str, parts: Sequence[Part], boundary: str | None = None) -> Part:
    """Each part after the boundary; a random boundary is one that no line of the parts starts with."""
    inner = [head + b"\r\n" + body for head, body in parts]
    boundary = boundary or _boundary(b"".join(inner))
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part + b"\r\n" for part in inner) + f"--{boundary}--\r\n".encode("ascii")
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n'.encode("ascii"), body


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
_CONTENT_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]+")


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


def _boundary(parts: bytes) -> str:
    """A random boundary in the email package's style that the parts do not hold."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if f"--{boundary}".encode("ascii") not in parts:
            return boundary

