"""Profile parts: pieces of profile content that many profiles share, each compared with an item once.

A part is an interest statement, an example paper, an exclusion matched by meaning or an item
marked not relevant, named by its role and text: hundreds of nurses in one trust hold the same
statement, so an item is compared with each distinct part once and each profile's components are
gathered from its parts (fusion.py). A profile's lexical vector is a weighted sum of its parts'
(RM3's query expansion: `lexical_coefficients`), so its BM25 score is the same sum of theirs.
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


def statement_part(text: str) -> Part:
    return Part(part_key(INTEREST, text), INTEREST, text, text, _distribution(Counter(lexical.terms(text))))


def example_part(label: str, text: str, stats: lexical.TermStats) -> Part:
    """An example paper: its title as label, its EXPANSION_TERMS most telling words by tf-idf
    (under the term statistics of the moment it first enters the index)."""
    tf = Counter(lexical.terms(text))
    top = sorted(tf, key=lambda t: (-tf[t] * stats.idf(t), t))[:EXPANSION_TERMS]
    return Part(part_key(EXAMPLE, text), EXAMPLE, text, lexical.title_of(text) or label,
                _distribution(Counter({t: tf[t] for t in top})))


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
