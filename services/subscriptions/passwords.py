"""The password policy for librarians: long, not common, not built on a common word, not the e-mail name.

NIST SP 800-63B's advice, without composition rules: at least 12 characters; refused when it is
one of the most common passwords or built from one (a common word with digits or symbols around
it, look-alike characters such as '@' for 'a', or repeated), when it is a keyboard or alphabet run
or mostly one or two characters, or when it contains the librarian's e-mail name. The list of
common passwords ships as data (`data/common-passwords.txt`, a few hundred lines, offline).
"""

from __future__ import annotations

import re
import string
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 1000
COMMON: frozenset[str] = frozenset(
    line.strip() for line in (Path(__file__).resolve().parent / "data" / "common-passwords.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
_LOOK_ALIKES = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t", "|": "l"})
_AROUND = string.digits + string.punctuation + " "
# Runs a person types without thinking: keyboard rows, the alphabet, digits, and each backwards.
_RUNS = ("qwertyuiopasdfghjklzxcvbnm", "abcdefghijklmnopqrstuvwxyz", "01234567890123456789", "1qaz2wsx3edc4rfv5tgb")
_RUNS = _RUNS + tuple(r[::-1] for r in _RUNS)


def _repeated_unit(text: str) -> str:
    """The shortest unit that repeats to make `text` ('abc' for 'abcabcabc'), or `text` itself."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _forms(password: str) -> set[str]:
    """The password as a guesser would try it: lower case, stripped of digits and symbols around
    it, look-alikes read as letters, a repeated unit once."""
    low = password.lower()
    forms = {low, low.strip(_AROUND), low.translate(_LOOK_ALIKES), low.strip(_AROUND).translate(_LOOK_ALIKES),
             low.translate(_LOOK_ALIKES).strip(_AROUND)}
    return {f for form in forms for f in (form, _repeated_unit(form)) if f}


def _email_names(email: str) -> set[str]:
    local = email.strip().lower().split("@", 1)[0]
    return {part for part in (local, *re.split(r"[._+\-]", local)) if len(part) >= 3}


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` is refused for the librarian with `email`, or None when it is good enough."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    low = password.lower()
    if any(name in low or name in low.translate(_LOOK_ALIKES) for name in _email_names(email)):
        return "a password must not contain your e-mail name"
    if len(set(low)) < 5:
        return "a password needs more than a few different characters"
    forms = _forms(password)
    if forms & COMMON:
        return "that password (or the word it is built on) is one of the most common passwords: choose another"
    if any(len(form) >= 6 and any(form in run for run in _RUNS) for form in forms):
        return "a keyboard or alphabet run is guessed at once: choose another password"
    if _repeated_unit(low) != low:
        return "a password made of one part repeated is guessed at once: choose another"
    return None
