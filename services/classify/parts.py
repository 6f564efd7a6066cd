"""Profile parts: pieces of profile content that many profiles share, each compared with an item once.

A part is an interest statement, an example paper, an exclusion matched by meaning or an item
marked not relevant, named by its role and text: hundreds of nurses in one trust hold the same
statement, so an item is compared with each distinct part once and each profile's components are
gathered from its parts (fusion.py). A profile's lexical vector is a weighted sum of its parts'
(RM3's query expansion: `lexical_coefficients`), so its BM25 score is the same sum of theirs.

The table's parts are held as arrays (`PartStore`, in memory; the index keeps them): one row per
distinct part, its dense vector, its lexical vector (a row of a sparse matrix), its label, its
number of words and how many models use it; a batch of items meets every row in one matrix
product for the cosines and one sparse product for the BM25 scores.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse as sp

from services.classify import lexical

INTEREST, EXAMPLE, EXCLUSION, DISLIKED = "interest", "example", "exclusion", "disliked"
#: The examples' most telling words kept in a profile's lexical vector, and the statements'
#: share of its mass when it has examples (RM3's original-query weight).
EXPANSION_TERMS = 100
STATEMENT_WEIGHT = 0.2
#: Rows of part vectors multiplied at once (PartStore.cosines).
CHUNK = 65536


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


def coordinates(vectors: Sequence[lexical.Sparse]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse vectors as coordinates: each entry's vector (its row), term id and weight."""
    rows = np.repeat(np.arange(len(vectors)), [len(v) for v in vectors])
    ids = np.fromiter((t for v in vectors for t in v), dtype=np.int64)
    return rows, ids, np.fromiter((w for v in vectors for w in v.values()), dtype=np.float64)


def vocab_matrix(rows: np.ndarray, ids: np.ndarray, weights: np.ndarray, n: int, vocab: np.ndarray) -> sp.csr_matrix:
    """n sparse vectors given as coordinates, over a sorted vocabulary of term ids: (n x vocabulary);
    terms the vocabulary lacks are left out (they add nothing to a product with vectors over it)."""
    cols = np.searchsorted(vocab, ids)
    hit = (cols < len(vocab)) & (vocab[np.minimum(cols, len(vocab) - 1)] == ids) if len(vocab) else cols < 0
    return sp.csr_matrix((weights[hit], (rows[hit], cols[hit])), shape=(n, len(vocab)))


class Grow:
    """A numpy array that grows by doubling (rows appended in amortised constant time)."""

    def __init__(self, dtype: type, width: int | None = None) -> None:
        shape = (16,) if width is None else (16, width)
        self._data = np.zeros(shape, dtype=dtype)
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=self._data.dtype)
        need = self.n + len(rows)
        if need > len(self._data):
            bigger = np.zeros((max(need, 2 * len(self._data)), *self._data.shape[1:]), dtype=self._data.dtype)
            bigger[: self.n] = self._data[: self.n]
            self._data = bigger
        self._data[self.n:need] = rows
        self.n = need

    @property
    def data(self) -> np.ndarray:
        return self._data[: self.n]

    def replace(self, rows: np.ndarray) -> None:
        self.n = 0
        self.extend(rows)


class PartStore:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.row: dict[str, int] = {}
        self.keys: list[str] = []
        self.labels: list[str] = []
        self.designs: list[frozenset[str]] = []  # an example paper's design markers, from its text
        self.lengths = Grow(np.int64)
        self.refs = Grow(np.int64)
        self.dense = Grow(np.float64, dim)  # float64 once, not per item: every cosine exact to 1e-15
        self._lex_rows, self._lex_terms, self._lex_weights = Grow(np.int64), Grow(np.int64), Grow(np.float64)
        self._matrix: sp.csr_matrix | None = None
        self._vocab: np.ndarray = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: str) -> bool:
        return key in self.row

    def add(self, parts: Sequence[Part], vectors: np.ndarray) -> None:
        """Add the parts not held yet (their dense vectors in `vectors`, row for row)."""
        new = [(p, v) for p, v in zip(parts, vectors) if p.key not in self.row]
        new = list({p.key: (p, v) for p, v in new}.values())
        if not new:
            return
        start = len(self.keys)
        for n, (p, _) in enumerate(new):
            self.row[p.key] = start + n
            self.keys.append(p.key)
            self.labels.append(p.label)
            self.designs.append(lexical.design_features(p.text) if p.role == EXAMPLE else frozenset())
        self.dense.extend(np.asarray([v for _, v in new], dtype=np.float64).reshape(len(new), self.dim))
        self.lengths.extend([len(lexical.terms(p.text)) if p.lexical else 0 for p, _ in new])
        self.refs.extend(np.zeros(len(new)))
        self._lex_rows.extend(np.repeat(np.arange(start, start + len(new)), [len(p.lexical) for p, _ in new]))
        self._lex_terms.extend(np.fromiter((t for p, _ in new for t in p.lexical), np.int64))
        self._lex_weights.extend(np.fromiter((w for p, _ in new for w in p.lexical.values()), np.float64))
        self._matrix = None

    def rows(self, keys: Sequence[str]) -> list[int]:
        return [self.row[k] for k in keys]

    def matrix(self) -> sp.csr_matrix:
        """The parts' lexical vectors as a sparse (parts x vocabulary) matrix."""
        if self._matrix is None:
            self._vocab = np.unique(self._lex_terms.data)
            self._matrix = vocab_matrix(self._lex_rows.data, self._lex_terms.data, self._lex_weights.data,
                                        len(self.keys), self._vocab)
        return self._matrix

    def lexical_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The lexical vectors of some parts as a (len(rows) x term id) matrix in coordinates:
        (row within `rows`, term id, weight)."""
        sub = self.matrix()[rows].tocoo()
        return sub.row, self._vocab[sub.col], sub.data

    def items_matrix(self, vectors: Sequence[lexical.Sparse]) -> sp.csc_matrix:
        """Items' sparse vectors over the parts' vocabulary (vocabulary x items); words no part
        has are left out, as they add nothing to any score."""
        self.matrix()  # sets the vocabulary
        return vocab_matrix(*coordinates(vectors), len(vectors), self._vocab).T

    def cosines(self, dense: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Cosines of every part (or those in `rows`) to each item: (parts x items), float64."""
        items = np.asarray(dense, dtype=np.float64).T
        source = self.dense.data if rows is None else self.dense.data[rows]
        out = np.empty((len(source), items.shape[1]))
        for start in range(0, len(source), CHUNK):
            out[start:start + CHUNK] = source[start:start + CHUNK] @ items
        return out

    def bm25(self, items: sp.csc_matrix) -> np.ndarray:
        """Each part's lexical score against each item: (parts x items)."""
        return np.asarray((self.matrix() @ items).todense(), dtype=np.float64).reshape(len(self), items.shape[1])

    def compact(self) -> np.ndarray:
        """Drop parts no model uses; returns the new row of each old one (-1 for dropped)."""
        keep = self.refs.data > 0
        new_row = np.full(len(self.keys), -1, dtype=np.int64)
        new_row[keep] = np.arange(int(keep.sum()))
        kept = np.flatnonzero(keep)
        self.keys, self.labels, self.designs = ([xs[i] for i in kept] for xs in (self.keys, self.labels, self.designs))
        self.row = {k: n for n, k in enumerate(self.keys)}
        for grown in (self.dense, self.lengths, self.refs):
            grown.replace(grown.data[kept])
        lex_keep = keep[self._lex_rows.data]
        self._lex_rows.replace(new_row[self._lex_rows.data[lex_keep]])
        for grown in (self._lex_terms, self._lex_weights):
            grown.replace(grown.data[lex_keep])
        self._matrix = None
        return new_row
