"""A subscriber's profile as the matcher sees it, and as points in the profile index (pure).

Each profile becomes: one "profile" point (the lexical sparse vector and all the profile's
metadata: filters, topics, exclusions, calibration, version, and the sparse vector's terms again,
from which the matcher scores an item's expanded words exactly: neighbours.py), one point per interest
statement, one per example paper (items the subscriber marked useful among them), one per
exclusion statement, one per item marked not relevant and, where it has examples and
background items, one "contrast" point (dense vectors; see profile_sync.contrast_vector); the
design-marker weights learnt from the examples (scoring.design_weights), the evidence types its
statements ask for by name and whether its examples include a translated paper ride in the
profile point's metadata. Every point
carries the filter fields (active, content_types, sources) so Qdrant filters candidates before
scoring. Short exclusions ("paediatric") are words to avoid; longer ones are statements matched
by meaning.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from contracts import Profile, ProfileChanged
from services.classify import lexical
from services.classify.evidence import asked_evidence_types
from services.classify.index import ANY, IndexPoint
from services.classify.scoring import Calibration, DesignWeights

_NS = uuid.UUID("0b6c3f39-5d3e-4f4e-8a57-6a0c3c1f2d10")

#: An exclusion of at most this many words is matched as words, a longer one by meaning.
EXCLUSION_WORDS_MAX = 3

EmbedFn = Callable[[Sequence[str]], np.ndarray]


def point_id(subscriber_id: str, kind: str, n: int = 0) -> str:
    return str(uuid.uuid5(_NS, f"{subscriber_id}\x1f{kind}\x1f{n}"))


@dataclass(frozen=True)
class ProfileModel:
    """Everything needed to score items for one subscriber."""

    subscriber_id: str
    organisation_id: str
    version: int
    interests: list[str]
    interest_vectors: np.ndarray
    examples: list[str]
    example_vectors: np.ndarray
    exclusions: list[str]
    exclusion_vectors: np.ndarray
    exclude_terms: list[list[str]]
    lexical: lexical.Sparse
    topics: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    active: bool = True
    urgent_alerts: bool = True
    calibration: Calibration = field(default_factory=Calibration)
    contrast_vector: np.ndarray | None = None
    example_design: list[frozenset[str]] = field(default_factory=list)
    design: DesignWeights | None = None
    example_titles: list[str] = field(default_factory=list)
    disliked: list[str] = field(default_factory=list)
    disliked_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    #: Evidence types the statements ask for by name (evidence.asked_evidence_types).
    asked_types: list[str] = field(default_factory=list)


def example_labels(profile: Profile) -> list[str]:
    """A reference for each example text: its DOI/PMID/URL when given, else its opening words
    (example_texts is aligned with examples; an empty text is an example not resolved)."""
    labels = []
    for i, text in enumerate(profile.example_texts):
        labels.append(profile.examples[i] if i < len(profile.examples) else text[:80])
    return labels


def build_model(
    event: ProfileChanged, embed: EmbedFn, stats: lexical.TermStats, calibration: Calibration | None = None,
    disliked: tuple[list[str], np.ndarray] | None = None,
) -> ProfileModel:
    """Embed a live profile's statements, examples and exclusions; build its lexical vector.
    `disliked`: the ids and vectors of the items marked not relevant that could be found."""
    p = event.profile
    assert p is not None, "tombstones have no model"
    interests = [s.strip() for s in p.interests if s.strip()]
    labelled = [(label, text.strip()) for label, text in zip(example_labels(p), p.example_texts) if text.strip()]
    example_texts = [text for _, text in labelled]
    word_excl = [e for e in p.exclude if 0 < len(lexical.terms(e)) <= EXCLUSION_WORDS_MAX]
    meaning_excl = [e for e in p.exclude if len(lexical.terms(e)) > EXCLUSION_WORDS_MAX]
    disliked_ids, disliked_vectors = disliked if disliked and len(disliked[0]) else ([], np.zeros((0, 1), np.float32))
    texts = interests + example_texts + meaning_excl
    vectors = embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    a, b = len(interests), len(interests) + len(example_texts)
    return ProfileModel(
        subscriber_id=event.subscriber_id,
        organisation_id=event.organisation_id,
        version=event.version,
        interests=interests,
        interest_vectors=vectors[:a],
        examples=[label for label, _ in labelled],
        example_vectors=vectors[a:b],
        exclusions=meaning_excl,
        exclusion_vectors=vectors[b:],
        exclude_terms=[lexical.terms(e) for e in word_excl],
        lexical=lexical.profile_vector(interests, example_texts, stats, expansion_terms=100, statement_weight=0.2),
        topics=list(p.topics),
        content_types=[str(c) for c in p.content_types],
        sources=list(p.sources),
        active=p.active,
        urgent_alerts=p.urgent_alerts,
        calibration=calibration or Calibration(),
        example_design=[lexical.design_features(t) for t in example_texts],
        asked_types=list(dict.fromkeys(str(k) for s in interests for k in asked_evidence_types(s))),
        example_titles=[lexical.title_of(text) or label for label, text in labelled],
        disliked=list(disliked_ids),
        disliked_vectors=disliked_vectors,
    )


def _filter_fields(m: ProfileModel) -> dict:
    return {
        "subscriber_id": m.subscriber_id,
        "active": int(m.active),
        "content_types": m.content_types or [ANY],
        "sources": m.sources or [ANY],
    }


def to_points(m: ProfileModel) -> list[IndexPoint]:
    """The model as index points (see the module docstring)."""
    base = _filter_fields(m)
    terms = sorted(m.lexical)
    meta = {
        **base,
        "kind": "profile",
        "organisation_id": m.organisation_id,
        "version": m.version,
        "deleted": 0,
        "topics": m.topics,
        "interests": m.interests,
        "examples": m.examples,
        "example_titles": m.example_titles,
        "exclusions": m.exclusions,
        "exclude_terms": m.exclude_terms,
        "urgent_alerts": int(m.urgent_alerts),
        "n_interests": len(m.interests),
        "n_examples": len(m.examples),
        "n_contrast": int(m.contrast_vector is not None),
        "design": {f: [float(w[0]), float(w[1])] for f, w in m.design.items()} if m.design else None,
        "asked_types": m.asked_types,
        "translated_ok": int(any(lexical.TRANSLATED in d for d in m.example_design)),
        "calibration": m.calibration.as_payload(),
        # the sparse vector again, for the matcher's exact lexical score of an expanded item
        "lexical_ids": [int(i) for i in terms],
        "lexical_weights": [float(m.lexical[i]) for i in terms],
    }
    points = [IndexPoint(point_id(m.subscriber_id, "profile"), meta, sparse=m.lexical)]
    for kind, texts, vectors in (
        ("interest", m.interests, m.interest_vectors),
        ("example", m.examples, m.example_vectors),
        ("exclusion", m.exclusions, m.exclusion_vectors),
        ("disliked", m.disliked, m.disliked_vectors),
    ):
        for n, (text, vec) in enumerate(zip(texts, vectors)):
            payload = {**base, "kind": kind, "n": n, "text": text}
            points.append(IndexPoint(point_id(m.subscriber_id, kind, n), payload, dense=[float(x) for x in vec]))
    if m.contrast_vector is not None:
        payload = {**base, "kind": "contrast", "n": 0, "text": ""}
        points.append(IndexPoint(point_id(m.subscriber_id, "contrast"), payload,
                                 dense=[float(x) for x in m.contrast_vector]))
    return points


def awaiting_point(event: ProfileChanged, keys: list[str]) -> IndexPoint:
    """A profile's example papers not found yet: the lookup keys ('field=value') of the items
    that would be them, and the event to apply again when one arrives. Never a match
    candidate (inactive, no vector)."""
    payload = {
        "subscriber_id": event.subscriber_id,
        "kind": "awaiting",
        "active": 0,
        "content_types": [ANY],
        "sources": [ANY],
        "awaiting": keys,
        "event": event.model_dump_json(),
    }
    return IndexPoint(point_id(event.subscriber_id, "awaiting"), payload, sparse={})


def tombstone_point(event: ProfileChanged) -> IndexPoint:
    """What is left of a deleted profile: its version, so older events stay ignored."""
    payload = {
        "subscriber_id": event.subscriber_id,
        "organisation_id": event.organisation_id,
        "kind": "profile",
        "version": event.version,
        "deleted": 1,
        "active": 0,
        "content_types": [ANY],
        "sources": [ANY],
        "topics": [],
    }
    return IndexPoint(point_id(event.subscriber_id, "profile"), payload, sparse={})
