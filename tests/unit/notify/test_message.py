"""The message written out directly is the one the email package builds: the same headers byte for
byte, the same parts once decoded, every body line within what RFC 2045 allows."""

from __future__ import annotations

import html
import random
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html.parser import HTMLParser

import pytest

from services.notify.message import _POLICY, build_message

BOUNDARY = "===============0123456789012345678=="
NAMES = [
    "Dr Asha Khan", "Ben O'Neil", "Jean-Luc Picard", "Zoë Brontë", "Dr. Who", "Khan, Asha", "A  B", " Lead",
    "Nurse (Ward 4)", 'Say "Hi"', "x" * 90, "", "Łukasz Żółć", "=?utf-8?q?sneaky?=",
]
ADDRESSES = ["asha.khan@example.nhs.uk", "a+tag@mail.example.org", "o'neil@example.org", "user@sub-domain.example.co.uk"]
SUBJECTS = [
    "Your weekly evidence update: 6 new items", "Urgent: MHRA: recall of batch X", "Urgent: Zoë’s trial — café",
    "Board horizon-scanning briefing: November 2026 - Example Hospitals NHS Trust", "  spaced  out  ",
    "Urgent: " + "Long title word " * 70, "=?utf-8?b?Zm9v?= looks encoded", "tab\there",
]
TEXTS = [
    "Hello,\n\nplain ASCII only.\n", "Zoë · café\nline\n", "x" * 1200 + "\n", "no final newline",
    "\n".join(["line · " * 30] * 15), "tab at the end\t\nspace at the end \n", "é" * 700 + "\n",
    *("a" * n + "é = \t\n" for n in (990, 993, 994, 995, 996, 997)),  # escapes and spaces where quoted-printable cuts
]


def email_package_message(
    *, sender_name: str, sender: str, to_name: str, to: str, subject: str, text: str, html: str,
    message_id: str, date: datetime, list_unsubscribe: str, kind: str,
    attachments: Sequence[tuple[str, str, bytes]] = (), boundary: str | None = None,
    inline: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """The message as the email package builds it, header by header: what build_message matches."""
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


def pairs(seed: int, n: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    for k in range(n):
        yield dict(
            sender_name=rng.choice(["Horizon Library and Knowledge Service", "Bibliothèque", "Lib"]),
            sender="evidence@library.example.org", to_name=rng.choice(NAMES), to=rng.choice(ADDRESSES),
            subject=rng.choice(SUBJECTS), text=rng.choice(TEXTS), html="<p>" + rng.choice(TEXTS) + "</p>\n",
            message_id=f"<{k}-{seed}@library.example.org>",
            date=datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(10_000)),
            list_unsubscribe="https://horizon.example.org/s/self/" + "eyJzaWQiOiJzMSJ9." * rng.randrange(1, 80) + "/unsubscribe",
            kind=rng.choice(["digest", "alert", "briefing"]), boundary=BOUNDARY,
        )


def read(part: tuple[str, str, str | None]) -> tuple[str, str]:
    """What a reader sees of a part: HTML with its character references resolved."""
    kind, text, _ = part
    return kind, html.unescape(text) if kind == "text/html" else text


def parts(raw: bytes) -> list[tuple[str, str, str | None]]:
    """Each leaf part as a mail reader gets it: (content type, decoded text with its line breaks as
    LF, transfer encoding)."""
    msg = message_from_bytes(raw, policy=policy.default)
    return [(p.get_content_type(), p.get_content().replace("\r\n", "\n"), p["Content-Transfer-Encoding"])
            for p in msg.walk() if not p.is_multipart()]


@pytest.mark.parametrize("seed", range(4))
def test_the_same_message_as_the_email_package(seed: int) -> None:
    for fields in pairs(seed, 120):
        ours, theirs = build_message(**fields), email_package_message(**fields)
        assert ours.split(b"\r\n\r\n")[0] == theirs.split(b"\r\n\r\n")[0], fields  # the headers, byte for byte
        assert [read(p) for p in parts(ours)] == [read(p) for p in parts(theirs)], fields
        for mine, its in zip(parts(ours), parts(theirs)):  # what the email package sends as it is, so do we
            assert its[2] != "7bit" or mine[2] == "7bit", fields
        lines = ours.split(b"\r\n")
        assert b"\n" not in ours.replace(b"\r\n", b"") and b"\r" not in ours.replace(b"\r\n", b"")
        assert all(len(line) <= 998 for line in lines) and ours.isascii()


def test_encoded_bodies_keep_to_rfc_2045_lines_and_choose_the_shorter_encoding() -> None:
    fields = next(pairs(1, 1))
    mostly_ascii = "An accent here: café, and a very long line " + "word " * 400 + "\n"
    mostly_not = "Łódź Żółć " * 300 + "\n"
    for text, cte in ((mostly_ascii, "quoted-printable"), (mostly_not, "base64")):
        raw = build_message(**(fields | {"text": text}))
        assert parts(raw)[0] == ("text/plain", text, cte)
        body = raw.split(b"\r\n\r\n", 2)[2].split(b"\r\n--")[0]
        assert max(map(len, body.split(b"\r\n"))) <= 76


class Page(HTMLParser):
    """The tags, attributes and text of a page, as a browser's parser reads them."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.seen: list[tuple[str, object]] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.seen.append(("/" + tag, None))

    def handle_data(self, data: str) -> None:
        self.seen.append(("text", data))


def test_html_goes_as_ascii_lines_breaking_only_between_attributes() -> None:
    fields = next(pairs(2, 1))
    cell = '<td class="entry" style="padding: 8px; color: #005EB8" title="Zoë’s “pick”" data-x="a b">Café · 5 mg/L</td>'
    page = "<table><tr>" + cell * 40 + "</tr></table>\n<p>Short line — fine</p>\n"
    raw = build_message(**(fields | {"html": page}))
    (_, html_part, cte) = parts(raw)[1]
    assert cte == "7bit" and html_part.isascii()
    assert max(map(len, html_part.splitlines())) <= 998 and len(html_part.splitlines()) > 3
    assert Page(html_part).seen == Page(page).seen  # the same elements, attributes and text

    styled = '<style>p { color: red }</style>\n<p>Zoë</p>\n<style>li::before { content: "→" }</style>\n'
    (_, same, cte) = parts(build_message(**(fields | {"html": styled})))[1]  # CSS does not read references
    assert cte != "7bit" and same == styled

    no_gap = "<p>" + "é" * 1200 + "</p>\n"  # nowhere to break: encoded, and read back the same
    (_, same, cte) = parts(build_message(**(fields | {"html": no_gap})))[1]
    assert cte != "7bit" and html.unescape(same) == no_gap


def leaves(raw: bytes) -> list[tuple[str, object, str | None, str | None]]:
    """Each leaf part of any message as a reader gets it: (type, content, file name, content id)."""
    msg = message_from_bytes(raw, policy=policy.default)
    return [(p.get_content_type(), read((p.get_content_type(), p.get_content(), None))[1] if p.get_content_maintype() == "text"
             else p.get_content(), p.get_filename(), p["Content-ID"])
            for p in msg.walk() if not p.is_multipart()]


def encoded_lines(raw: bytes) -> list[int]:
    """The lengths of the lines of every quoted-printable or base64 body."""
    msg = message_from_bytes(raw, policy=policy.default)
    return [len(line) for p in msg.walk() if p["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
            for line in p.get_payload().splitlines()]


PDF = bytes(random.Random(5).randrange(256) for _ in range(5000))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3


@pytest.mark.parametrize("filename", ["board-briefing-2026-11.pdf", "Zoë’s briefing.pdf", 'say "hi".pdf', "long " * 40 + ".pdf"])
def test_a_briefing_with_its_pdf_and_chart_is_the_email_packages_in_rfc_2045_lines(filename: str) -> None:
    for fields in pairs(11, 12):
        fields |= {"attachments": [(filename, "application/pdf", PDF)], "inline": [("chart@horizon", "image/png", PNG)]}
        ours, theirs = build_message(**fields), email_package_message(**fields)
        assert ours.split(b"\r\n\r\n")[0] == theirs.split(b"\r\n\r\n")[0]  # the headers, byte for byte
        msg = message_from_bytes(ours, policy=policy.default)
        assert [p.get_content_type() for p in msg.walk()] == [
            "multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png",
            "application/pdf",
        ]
        assert leaves(ours) == leaves(theirs)
        assert leaves(ours)[-2:] == [("image/png", PNG, None, "<chart@horizon>"), ("application/pdf", PDF, filename, None)]
        assert max(encoded_lines(ours)) <= 76 < max(encoded_lines(theirs))  # the email package's run to 998
        assert ours.isascii() and max(map(len, ours.split(b"\r\n"))) <= 998
    with pytest.raises(ValueError):
        build_message(**(fields | {"attachments": [("x.pdf", "application/pdf\r\nBcc: x@example.org", PDF)]}))


def test_refused_addresses_behave_as_before() -> None:
    fields = next(pairs(9, 1)) | {"attachments": [("b.pdf", "application/pdf", b"%PDF-1.4 x")]}
    for bad in ("not an address", "two@@example.org", "a@b@c"):
        for attachments in ((), fields["attachments"]):
            with pytest.raises((ValueError, MessageError)) as before:
                email_package_message(**(fields | {"to": bad, "attachments": attachments}))
            with pytest.raises((ValueError, MessageError)) as now:
                build_message(**(fields | {"to": bad, "attachments": attachments}))
            assert type(now.value) is type(before.value)


def test_a_message_parses_back() -> None:
    fields = next(pairs(3, 1)) | {"boundary": None, "to_name": "Zoë Brontë", "subject": "Urgent: café"}
    msg = message_from_bytes(build_message(**fields), policy=policy.default)
    assert msg["To"].addresses[0].display_name == "Zoë Brontë" and msg["Subject"] == "Urgent: café"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
