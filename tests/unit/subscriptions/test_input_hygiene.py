"""Hostile input to the subscribers file and to single-line fields: refused with a clear message."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.subscriptions import fileformat
from services.subscriptions.schemas import SubscriberFields, SubscriberUpdate

# Nine levels of ten aliases each inside one subscriber's interests: a billion strings if expanded.
NESTED = b"subscribers:\n  - name: A\n    email: a@example.nhs.uk\n    interests:\n      - &a [x,x,x,x,x,x,x,x,x,x]\n" + b"".join(
    f"      - &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n".encode() for i in range(8))
# One large subscriber repeated by alias: every copy would be validated and written again.
STATEMENTS = ", ".join(["x" * 900] * 50)
REPEATED = (f"subscribers:\n  - &s {{name: A, email: a@example.nhs.uk, interests: [{STATEMENTS}]}}\n".encode()
            + b"  - *s\n" * 20000)


@pytest.mark.parametrize("bomb", [NESTED, REPEATED], ids=["nested", "repeated"])
def test_an_alias_bomb_is_refused_without_expanding_it(bomb):
    parsed = fileformat.parse_yaml(bomb)
    assert parsed.rows == [] and len(parsed.errors) == 1
    assert "alias" in parsed.errors[0].message and parsed.errors[0].row == 0


def test_a_single_alias_is_refused_too_and_anchors_alone_are_fine():
    assert "alias" in fileformat.parse_yaml(
        b"subscribers:\n  - &asha {name: A, email: a@example.nhs.uk}\n  - *asha\n").errors[0].message
    assert "alias" in fileformat.parse_yaml(
        b"base: &b {frequency: daily}\nsubscribers:\n  - {<<: *b, name: A, email: a@example.nhs.uk}\n").errors[0].message
    parsed = fileformat.parse_yaml(b"subscribers:\n  - &asha {name: A, email: a@example.nhs.uk}\n")
    assert parsed.errors == [] and len(parsed.rows) == 1


def test_deeply_nested_yaml_is_an_error_not_a_crash():
    parsed = fileformat.parse_yaml(b"subscribers: " + b"[" * 5000 + b"]" * 5000 + b"\n")
    assert parsed.errors and parsed.rows == []


@pytest.mark.parametrize("bad", ["Asha\r\nBcc: x@evil.example", "Asha\nKhan", "Asha\x00", "Asha\x1b[31m", "Asha\x85",
                                 "Asha \u202eretsinimda", "Asha\u2066", "\u2028Asha"])
def test_control_and_bidi_characters_are_refused_in_names_with_a_clear_message(bad):
    with pytest.raises(ValidationError) as caught:
        SubscriberFields(name=bad, email="a@example.nhs.uk")
    message = caught.value.errors()[0]["msg"]
    assert "control" in message or "direction" in message
    with pytest.raises(ValidationError):
        SubscriberFields(name="Asha", email="a@example.nhs.uk", role=bad)
    with pytest.raises(ValidationError):
        SubscriberFields(name="Asha", email="a@example.nhs.uk", interests=[bad])
    with pytest.raises(ValidationError):
        SubscriberUpdate(name=bad)


def test_ordinary_names_still_pass():
    for name in ("Dr Asha Khan", "Siân O'Neill-Jones", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05dc\u05d9\u05db\u05dd", "José\u200fMaría"):
        assert SubscriberFields(name=name, email="a@example.nhs.uk").name == name
