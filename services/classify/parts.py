"""Profile parts: pieces of profile content that many profiles share, each compared with an item once.

Librarians reuse wording: hundreds of nurses in one trust hold the same interest statement, and
the same example paper is named in many profiles. A part is one such piece, named by its role
and its text: an interest statement, an example paper (title and abstract), an exclusion
matched by meaning, or an item a subscriber marked not relevant. It has a dense vector and,
for statements and examples, a lexical vector (a distribution over its words). An item is
compared with every part once; each profile's components are then gathered from its parts
(fusion.py), so the cost of an item grows with the distinct wording held, and fanning a match
out to everyone who shares a profile costs nothing more.

A profile's lexical vector is a weighted sum of its parts' lexical vectors (RM3's query
expansion): the statements' words, weighted by their length, and each example's most telling
words with an equal share of the rest (`lexical_coefficients`); its BM25 score against an item is
therefore the same weighted sum of the parts' scores.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from services.classify import lexical

INTEREST, EXAMPLE, EXCLUSION, DISLIKED = "interest", "example", "exclusion", "disliked"
#: The examples' most telling words kept in a profile's lexical vector, and the statements'
#: share of its mass when it has examples (RM3's original-query weight).
EXPANSION_TERMS = 100
STATEMENT_WEIGHT = 0.2


def part_key(role: str, text: str) -> str:
    """A part's stable name: its role and a hash of its text (an item id for DISLIKED)."""
    return f"{role}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:24]}"


@dataclass(frozen=True)
class Part:
    key: str
    role: str
    text: str
    #: What a reason shows: the statement itself, an example paper's title.
    label: str
    #: The lexical vector (term id -> weight, summing to 1), empty for exclusions and disliked items.
    lexical: lexical.Sparse
    #: Whether an example paper's title is a bracketed translation (lexical.translated).
    translated: bool = False


def statement_part(text: str) -> Part:
    return Part(part_key(INTEREST, text), INTEREST, text, text, _distribution(Counter(lexical.terms(text))))


def example_part(label: str, text: str, stats: lexical.TermStats) -> Part:
    """An example paper: its title as label, its EXPANSION_TERMS most telling words by tf-idf
    (under the term statistics of the moment it first enters the index)."""
    tf = Counter(lexical.terms(text))
    top = sorted(tf, key=lambda t: (-tf[t] * stats.idf(t), t))[:EXPANSION_TERMS]
    return Part(part_key(EXAMPLE, text), EXAMPLE, text, lexical.title_of(text) or label,
                _distribution(Counter({t: tf[t] for t in top})), lexical.translated(text))


def exclusion_part(text: str) -> Part:
    return Part(part_key(EXCLUSION, text), EXCLUSION, text, text, {})


def disliked_part(item_id: str) -> Part:
    return Part(part_key(DISLIKED, item_id), DISLIKED, item_id, item_id, {})


def _distribution(counts: Counter) -> lexical.Sparse:
    total = sum(counts.values())
    out: lexical.Sparse = {}
    for t, n in counts.items():
        i = lexical.term_id(t)
        out[i] = out.get(i, 0.0) + n / total
    return out


def lexical_coefficients(lengths: Sequence[int], n_examples: int) -> tuple[list[float], list[float]]:
    """Each statement's and each example's weight in the profile's lexical vector, from the
    statements' numbers of words.

    The statements' words form one distribution (each statement weighted by its number of
    words) holding STATEMENT_WEIGHT of the mass when there are examples, all of it otherwise;
    the examples share the rest equally.
    """
    total = sum(lengths)
    statement_mass = (STATEMENT_WEIGHT if n_examples else 1.0) if total else 0.0
    example_share = ((1.0 - statement_mass) / n_examples) if n_examples else 0.0
    return [statement_mass * n / total if total else 0.0 for n in lengths], [example_share] * n_examples
