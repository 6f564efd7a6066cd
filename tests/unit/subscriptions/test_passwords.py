"""The password policy: long enough, not common (nor a common word dressed up), not the e-mail name."""

from __future__ import annotations

import pytest

from services.subscriptions.passwords import COMMON, password_problem


@pytest.mark.parametrize("password", [
    "password1234", "Password1234!", "P@ssw0rd2024!", "Summer2024!!", "qwertyuiop123", "1q2w3e4r5t6y", "123456789012",
    "iloveyou1234", "letmein12345", "Welcome12345", "passwordpassword", "abcabcabcabc", "aaaaaaaaaaaa", "trustno1trustno1",
    "changeme2025", "horizon12345", "qwertyuiopasdfgh",
])
def test_common_passwords_and_common_words_dressed_up_are_refused(password):
    assert password_problem(password, "someone@example.nhs.uk") is not None


def test_short_passwords_are_refused_with_the_length_named():
    assert "12 characters" in password_problem("Xk4#pq9!", "someone@example.nhs.uk")


@pytest.mark.parametrize(("password", "email"), [
    ("asha.khan.2024!", "asha.khan@example.nhs.uk"), ("KhanKhanKhan99", "asha.khan@example.nhs.uk"),
    ("my-name-is-librarian", "librarian@example.nhs.uk"),
])
def test_passwords_containing_the_e_mail_name_are_refused(password, email):
    assert "e-mail" in password_problem(password, email)


@pytest.mark.parametrize("password", ["correct horse battery", "first start password", "tangerine-lighthouse-47",
                                      "Vq8#mT2!xLp9", "a long enough passphrase"])
def test_good_passwords_pass(password):
    assert password_problem(password, "asha.khan@example.nhs.uk") is None


def test_the_common_list_is_shipped_and_substantial():
    assert len(COMMON) >= 500 and "password" in COMMON and "123456" in COMMON
