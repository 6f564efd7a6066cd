"""'Why you got this': what in the item met the interest, in a short phrase. Pure.

A digest's group heading already names the interest (the statement, the example paper or the
topic that ItemMatched.reasons puts first), so the line under each item says what that heading
cannot: the words the item shares with the statement, the example paper it resembles, the topic
it was tagged with, the kind of evidence that was asked for. It never repeats the heading.
"""

from __future__ import annotations

import re
from functools import lru_cache

from contracts import Item, MatchReason

MAX_TERMS = 3
MAX_TITLE = 70

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*|\d+[A-Za-z]+")
#: Words that join a phrase but never end one or make one: "intensive care" yes, "care" alone no.
_GENERIC = frozenset("""
care effect effects evidence outcome outcomes people person patient patients risk treatment use adult adults
study studies trial trials review reviews interest interests latest research paper papers management service
services health new
""".split())
_STOP = _GENERIC | frozenset("""
a about across after against all also among an and any are as at be been before being between both but by can
could do does during each either for from had has have how in including into is it its less many may more most
not of on or other our over per should so some such than that the their them there these they this those through
to under up used using versus via was we were what when where whether which while who why will with within
without would
""".split())


def _stem(word: str) -> str:
    w = word.lower().strip("'-")
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("es", "e"), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith(("ss", "us", "is")):
            return w[: -len(suffix)] + keep
    return w


@lru_cache(maxsize=4096)  # an item's text and a statement recur across everyone who shares them
def _tokens(text: str) -> tuple[tuple[str, str, int, int], ...]:
    """(word as written, its stem, where it starts and ends) for each word."""
    return tuple((m.group(0), _stem(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(text))


def _as_written(text: str) -> str:
    return text if any(c.isupper() for c in text[1:]) else text.lower()


def shared_terms(statement: str, text: str, limit: int = MAX_TERMS) -> list[str]:
    return list(_shared_terms(statement, text, limit))


@lru_cache(maxsize=16384)  # the same (statement, item) pair recurs for everyone who shares the statement
def _shared_terms(statement: str, text: str, limit: int) -> tuple[str, ...]:
    """Phrases of the statement that the item's text also uses (runs of words kept together), in its order."""
    said = _tokens(statement)
    stems = [t[1] for t in _tokens(text)]
    present = set(stems)
    pairs = set(zip(stems, stems[1:]))
    found: list[tuple[int, str]] = []
    covered: set[int] = set()
    i = 0
    while i < len(said) - 1:  # the longest runs of statement words that the item has in the same order
        j = i
        if said[i][1] not in _STOP:
            while j < len(said) - 1 and (said[j + 1][1] not in _STOP or said[j + 1][1] in _GENERIC) \
                    and (said[j][1], said[j + 1][1]) in pairs:
                j += 1
        if j > i:
            found.append((i, _as_written(statement[said[i][2]:said[j][3]])))
            covered |= set(range(i, j + 1))
        i = j + 1
    used = {said[i][1] for i in covered}
    for i, (word, stem, start, end) in enumerate(said):
        if i in covered or stem in used or stem in _STOP or stem not in present:
            continue
        if not (len(stem) >= 4 or (word.isupper() and len(word) >= 2)) or "-" in statement[max(start - 1, 0):end + 1]:
            continue  # a short word, or half of a hyphenated one ("led" of "nurse-led"), says nothing alone
        used.add(stem)
        found.append((i, _as_written(word)))
    return tuple(phrase for _, phrase in sorted(found))[:limit]


def _title(text: str) -> str:
    if len(text) <= MAX_TITLE:
        return text
    return text[:MAX_TITLE].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def why(item: Item, reasons: tuple[MatchReason, ...]) -> str:
    """What matched: shared terms with the interest, the example paper, the topic, the evidence asked
    for; or, for an item a librarian sent on, what they said."""
    if not reasons:
        return ""
    text = f"{item.title}. {item.summary}"
    first = reasons[0]
    parts: list[str] = []
    if first.kind == "interest":
        terms = shared_terms(first.text, text)
        parts.append(f"mentions {_quoted(terms)}" if terms else "close in meaning, though in other words")
    elif first.kind == "example":
        terms = shared_terms(first.text, text)
        parts.append(f"shares {_quoted(terms)} with your example paper" if terms else "close in meaning to your example paper")
    elif first.kind == "topic":
        parts.append("tagged with this topic")
    elif first.kind == "library":  # a librarian sent it on: their words say why
        parts.append(first.text)
    for reason in reasons[1:]:
        if reason.kind == "interest" and first.kind != "interest":
            terms = shared_terms(reason.text, text)
            parts.append(f"your interest in {_title(reason.text)}" + (f" ({_quoted(terms)})" if terms else ""))
        elif reason.kind == "example" and first.kind != "example":
            parts.append(f"like your example paper “{_title(reason.text)}”")
        elif reason.kind == "topic" and first.kind != "topic":
            parts.append(f"topic {reason.text}")
        elif reason.kind == "evidence":
            parts.append(f"a {reason.text}, as you asked")
    phrase = "; ".join(dict.fromkeys(parts))
    return phrase[:1].upper() + phrase[1:]


def _quoted(terms: list[str]) -> str:
    quoted = [f"“{t}”" for t in terms]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
