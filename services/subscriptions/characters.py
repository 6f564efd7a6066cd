"""Which characters a single-line field (a name, an e-mail, a role, a statement) may hold.

A line break in a name reaches e-mail headers, where it either injects a header or makes every
message to that person fail to build; NUL and other control characters break logs, files and
terminals; Unicode direction overrides and isolates make text read other than it is stored.
All are refused with a message that names the character, never silently removed.
"""

from __future__ import annotations

import unicodedata

#: LRE, RLE, PDF, LRO, RLO (U+202A-U+202E) and LRI, RLI, FSI, PDI (U+2066-U+2069).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def single_line_problem(value: str) -> str | None:
    """Why `value` cannot be a single-line field, or None. C0 and C1 controls (CR, LF, NUL, tab,
    ESC, NEL, ...), DEL and the Unicode line and paragraph separators count as control characters."""
    for char in value:
        if char in BIDI_CONTROLS:
            return f"must not contain Unicode text-direction controls (found U+{ord(char):04X})"
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return f"must be a single line without control characters (found U+{ord(char):04X})"
    return None


def check_single_line(value: object) -> object:
    """A pydantic validator: the value unchanged, or ValueError with the reason."""
    if isinstance(value, str):
        problem = single_line_problem(value)
        if problem:
            raise ValueError(problem)
    return value
