"""Tags items with taxonomy topics: embedding similarity plus the topic's own words in the text.

A topic's score is (1 - lexical_weight) * semantic + lexical_weight * lexical: the cosine to the
topic's embedded text mapped from `floor` (0) to `ceiling` (1), and whole-word hits of its label
and synonyms, saturating (1 hit 0.5, 2 hits 0.75, ...). Neither alone is trusted: a word can
appear in passing ("stroke volume"), a vector can sit near a topic it never names. With the
defaults a topic is kept at a cosine of ~0.43 alone, or with one hit and a cosine of ~0.25.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from itertools import compress

import numpy as np

from contracts import TopicTag
from services.classify.taxonomy import Taxonomy, Topic

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]

#: Defaults, calibrated on MiniLM-L6 cosines between abstracts and topic texts (see tests).
FLOOR = 0.15
CEILING = 0.50
LEXICAL_WEIGHT = 0.5
THRESHOLD = 0.4
#: Only a text's first characters are scanned for terms (the model reads ~1,200 of them);
#: this bounds the cost of a huge summary.
MAX_CHARS = 4000


def topic_text(topic: Topic) -> str:
    """The text a topic is embedded from."""
    synonyms = ", ".join(topic.synonyms)
    return f"{topic.label}. {topic.description} Related terms: {synonyms}."


_TOKEN = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans("", "", "'\u2019")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; apostrophes dropped ("Alzheimer's" -> "alzheimers"), '-' splits."""
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


class TermIndex:
    """Every topic's label and synonyms as token sequences, for whole-word, case-insensitive matching.

    Built once. A term matches where its tokens appear in a row in the text's tokens (so word
    boundaries hold, and 'pre-eclampsia' and 'pre eclampsia' read alike); its last word may
    take a plural 's' or 'es'. At one place the longest term wins ('type 2 diabetes' over
    'type'), and matches do not overlap. A term two topics share credits both.
    """

    def __init__(self, topics: list[Topic]) -> None:
        self.n_topics = len(topics)
        owners: dict[tuple[str, ...], list[int]] = {}
        for index, topic in enumerate(topics):
            for term in (topic.label, *topic.synonyms):
                words = tuple(tokens(term))
                if not words:
                    continue
                variants = [words]
                if words[-1].isalpha():
                    variants += [(*words[:-1], words[-1] + "s"), (*words[:-1], words[-1] + "es")]
                for variant in variants:
                    holders = owners.setdefault(variant, [])
                    if index not in holders:
                        holders.append(index)
        self._owners = owners
        #: first token -> the terms starting with it, longest first
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for words in sorted(owners, key=len, reverse=True):
            self._by_first.setdefault(words[0], []).append(words)

    def __len__(self) -> int:
        return len(self._owners)

    def matches(self, text: str) -> list[tuple[str, ...]]:
        """The terms found in the text, in order (token tuples)."""
        toks = tokens(text)
        found: list[tuple[str, ...]] = []
        end = 0
        # compress() keeps, at C speed, only the positions whose token starts some term
        for i in compress(range(len(toks)), map(self._by_first.get, toks)):
            if i < end:
                continue
            for words in self._by_first[toks[i]]:
                size = len(words)
                if size == 1 or tuple(toks[i : i + size]) == words:
                    found.append(words)
                    end = i + size
                    break
        return found

    def counts(self, texts: list[str], max_chars: int = MAX_CHARS) -> np.ndarray:
        """Term hits per topic in each text's first max_chars, shape (len(texts), n_topics), float32."""
        hits = np.zeros((len(texts), self.n_topics), dtype=np.float32)
        for row, text in enumerate(texts):
            for words in self.matches(text[:max_chars]):
                hits[row, self._owners[words]] += 1.0
        return hits


def combine(cosines: np.ndarray, hits: np.ndarray, floor: float = FLOOR, ceiling: float = CEILING,
            lexical_weight: float = LEXICAL_WEIGHT) -> np.ndarray:
    """Tag scores in [0, 1] from cosines and lexical hit counts (same shapes)."""
    semantic = np.clip((cosines - floor) / (ceiling - floor), 0.0, 1.0)
    lexical = 1.0 - np.power(np.float32(0.5), hits)
    return ((1.0 - lexical_weight) * semantic + lexical_weight * lexical).astype(np.float32)


class Tagger:
    """Scores items against every topic of a taxonomy; built once, used per batch. Keeps up to
    `top_k` tags an item, and knows the topics the taxonomy marks urgent (evidence.is_urgent)."""

    def __init__(self, taxonomy: Taxonomy, embed: Embed, threshold: float = THRESHOLD, floor: float = FLOOR,
                 ceiling: float = CEILING, lexical_weight: float = LEXICAL_WEIGHT, top_k: int = 5) -> None:
        if not 0.0 <= lexical_weight <= 1.0 or ceiling <= floor:
            raise ValueError("need 0 <= lexical_weight <= 1 and floor < ceiling")
        self.threshold, self.top_k = threshold, top_k
        self.urgent_topics = taxonomy.urgent_ids()
        self.floor, self.ceiling, self.lexical_weight = floor, ceiling, lexical_weight
        self._topics = list(taxonomy.topics)
        vectors = np.asarray(embed([topic_text(t) for t in self._topics]), dtype=np.float32)
        if vectors.shape[0] != len(self._topics):
            raise ValueError("embed returned a different number of rows than topics")
        #: One unit row per topic, in taxonomy order.
        self.topic_vectors = vectors
        self.terms = TermIndex(self._topics)
        log.info("tagger ready", extra={"topics": len(self._topics), "terms": len(self.terms)})

    def scores(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Every topic's score for every text, shape (len(texts), n_topics), taxonomy order."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError("vectors must have one row per text")
        # einsum, not `@`: for a (64 x 384) by (384 x ~70) product a threaded BLAS call costs
        # 10+ ms when torch's threads hold the cores; einsum's single-threaded loop takes ~0.3 ms.
        cosines = np.einsum("id,td->it", vectors, self.topic_vectors)
        hits = self.terms.counts(texts)
        return combine(cosines, hits, self.floor, self.ceiling, self.lexical_weight)

    def tag(self, texts: list[str], vectors: np.ndarray, top_k: int | None = None,
            threshold: float | None = None) -> list[list[TopicTag]]:
        """For each text, up to top_k tags scoring at least the threshold, best first."""
        if not texts:
            return []
        limit = self.threshold if threshold is None else threshold
        scores = self.scores(texts, vectors)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :max(0, self.top_k if top_k is None else top_k)]
        best = [[(self._topics[col], float(scores[row, col])) for col in columns] for row, columns in enumerate(order)]
        return [[TopicTag(topic_id=t.id, label=t.label, score=round(s, 4)) for t, s in tags if s >= limit] for tags in best]
