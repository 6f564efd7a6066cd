"""The message written out directly is, byte for byte, the one the email package builds."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.errors import MessageError

import pytest

from services.notify.message import build_message, email_package_message

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


@pytest.mark.parametrize("seed", range(4))
def test_the_same_bytes_as_the_email_package(seed: int) -> None:
    for fields in pairs(seed, 120):
        assert build_message(**fields) == email_package_message(**fields), fields


def test_attachments_and_refused_addresses_behave_as_before() -> None:
    fields = next(pairs(9, 1)) | {"attachments": [("b.pdf", "application/pdf", b"%PDF-1.4 x")]}
    with_pdf = message_from_bytes(build_message(**fields), policy=policy.default)  # built by the email package
    assert [p.get_content_type() for p in with_pdf.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf",
    ]
    for bad in ("not an address", "two@@example.org", "a@b@c"):
        with pytest.raises((ValueError, MessageError)) as before:
            email_package_message(**(fields | {"to": bad}))
        with pytest.raises((ValueError, MessageError)) as now:
            build_message(**(fields | {"to": bad}))
        assert type(now.value) is type(before.value)


def test_a_message_parses_back() -> None:
    fields = next(pairs(3, 1)) | {"boundary": None, "to_name": "Zoë Brontë", "subject": "Urgent: café"}
    msg = message_from_bytes(build_message(**fields), policy=policy.default)
    assert msg["To"].addresses[0].display_name == "Zoë Brontë" and msg["Subject"] == "Urgent: café"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
