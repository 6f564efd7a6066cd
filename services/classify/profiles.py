"""A subscriber's profile as the matcher sees it, and as points in the profile index (pure).

Subscribers whose profiles say the same (`ProfileSpec`: statements, examples, exclusions, items
marked not relevant, topics, content types, sources) share one `ProfileModel`: one calibration,
one row in the matching table, one decision per item fanned out to all of them. The index holds
a "part" point per distinct part (parts.py), a "model" point per model and a "profile" point per
subscriber. Flags are integers: qdrant-edge-py 0.9 never matches a filter on a boolean.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from contracts import ProfileChanged
from services.classify import lexical, parts
from services.classify.index import IndexPoint
from services.classify.fusion import Calibration, DesignWeights

_NS = uuid.UUID("0b6c3f39-5d3e-4f4e-8a57-6a0c3c1f2d10")

#: An exclusion of at most this many words is matched as words, a longer one by meaning.
EXCLUSION_WORDS_MAX = 3

PROFILE, MODEL, PART, AWAITING = "profile", "model", "part", "awaiting"


def point_id(subscriber_id: str, kind: str, n: int = 0) -> str:
    return str(uuid.uuid5(_NS, f"{subscriber_id}\x1f{kind}\x1f{n}"))


def key_id(kind: str, key: str) -> str:
    """The point id of a part or model, from its key."""
    return str(uuid.uuid5(_NS, f"{kind}\x1f{key}"))


@dataclass(frozen=True)
class ProfileSpec:
    """What a profile asks for, in a canonical order: everything that decides its scores."""

    interests: tuple[str, ...] = ()
    #: (reference, title and abstract) of each example paper whose text is known.
    examples: tuple[tuple[str, str], ...] = ()
    word_exclusions: tuple[tuple[str, ...], ...] = ()
    meaning_exclusions: tuple[str, ...] = ()
    #: Items marked not relevant whose vectors were found.
    disliked: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    content_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @cached_property
    def key(self) -> str:
        raw = json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def spec_of(event: ProfileChanged, disliked: tuple[str, ...] = ()) -> ProfileSpec:
    """The canonical content of a live profile (with its examples' texts filled in already);
    `disliked`: the items marked not relevant whose vectors could be found."""
    p = event.profile
    assert p is not None, "tombstones have no spec"
    # each example text's reference: its DOI/PMID/URL when given, else its opening words (example_texts
    # is aligned with examples; an empty text is an example not resolved)
    labels = [p.examples[i] if i < len(p.examples) else text[:80] for i, text in enumerate(p.example_texts)]
    examples = [(label, text.strip()) for label, text in zip(labels, p.example_texts) if text.strip()]
    words = [e for e in p.exclude if 0 < len(lexical.terms(e)) <= EXCLUSION_WORDS_MAX]
    return ProfileSpec(
        interests=tuple(sorted(s.strip() for s in p.interests if s.strip())),
        examples=tuple(sorted(examples)),
        word_exclusions=tuple(sorted({tuple(lexical.terms(e)) for e in words})),
        meaning_exclusions=tuple(sorted({e for e in p.exclude if len(lexical.terms(e)) > EXCLUSION_WORDS_MAX})),
        disliked=tuple(sorted(set(disliked))),
        topics=tuple(sorted(set(p.topics))),
        content_types=tuple(sorted({str(c) for c in p.content_types})),
        sources=tuple(sorted(set(p.sources))),
    )


def spec_parts(spec: ProfileSpec, stats: lexical.TermStats, known=()) -> dict[str, list[parts.Part]]:
    """The spec's parts by role, in its order (repeats kept: they weigh in the lexical vector).
    An example paper already in `known` (keys of parts held) is named, not analysed again."""
    def example(label: str, text: str) -> parts.Part:
        key = parts.part_key(parts.EXAMPLE, text)
        return parts.Part(key, parts.EXAMPLE, text, label, {}) if key in known else parts.example_part(label, text, stats)

    return {
        parts.INTEREST: [parts.statement_part(s) for s in spec.interests],
        parts.EXAMPLE: [example(label, text) for label, text in spec.examples],
        parts.EXCLUSION: [parts.exclusion_part(e) for e in spec.meaning_exclusions],
        parts.DISLIKED: [parts.disliked_part(i) for i in spec.disliked],
    }


@dataclass(frozen=True)
class ProfileModel:
    """A calibrated profile, shared by every subscriber whose spec has its key."""

    key: str
    #: Part keys by role (parts.INTEREST, EXAMPLE, EXCLUSION, DISLIKED), in the spec's order.
    parts: dict[str, list[str]]
    #: The example papers' references (DOI, PMID or URL), in the order of parts[EXAMPLE].
    example_refs: list[str] = field(default_factory=list)
    word_exclusions: list[list[str]] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    calibration: Calibration = field(default_factory=Calibration)
    design: DesignWeights | None = None
    #: Evidence types the statements ask for by name (evidence.asked_evidence_types).
    asked_types: list[str] = field(default_factory=list)
    #: Whether one of its example papers is a bracketed translation (lexical.translated).
    translated_ok: bool = False

    @property
    def has_text(self) -> bool:
        return bool(self.parts.get(parts.INTEREST) or self.parts.get(parts.EXAMPLE))


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscriber as classify keeps it: which model, and what decides whether they get mail."""

    subscriber_id: str
    organisation_id: str
    version: int
    model: str = ""  # the model key; empty for a tombstone
    active: bool = True
    urgent_alerts: bool = True
    deleted: bool = False


def part_point(part: parts.Part, vector: np.ndarray) -> IndexPoint:
    terms = sorted(part.lexical)
    payload = {"kind": PART, "key": part.key, "role": part.role, "text": part.text, "label": part.label,
               "lexical_ids": terms, "lexical_weights": [part.lexical[t] for t in terms],
               "active": 0}
    return IndexPoint(key_id(PART, part.key), payload, dense=[float(x) for x in vector])


def part_from_payload(payload: dict) -> parts.Part:
    lex = dict(zip((int(i) for i in payload.get("lexical_ids") or ()), (float(w) for w in payload.get("lexical_weights") or ())))
    return parts.Part(payload["key"], payload["role"], payload["text"], payload["label"], lex)


def model_point(m: ProfileModel) -> IndexPoint:
    payload = {
        "kind": MODEL, "key": m.key, "parts": m.parts, "example_refs": m.example_refs, "word_exclusions": m.word_exclusions, "topics": m.topics,
        "content_types": m.content_types, "sources": m.sources, "calibration": m.calibration.as_payload(),
        "design": {f: [float(w[0]), float(w[1])] for f, w in m.design.items()} if m.design else None,
        "asked_types": m.asked_types, "translated_ok": int(m.translated_ok), "active": 0,
    }
    return IndexPoint(key_id(MODEL, m.key), payload, sparse={})


def model_from_payload(payload: dict) -> ProfileModel:
    """The model a model point holds (one stored by an earlier version may carry a vector and
    fields since removed: they are ignored)."""
    design = payload.get("design")
    return ProfileModel(
        key=payload["key"], parts={k: list(v) for k, v in payload["parts"].items()},
        example_refs=list(payload.get("example_refs") or ()),
        word_exclusions=[list(w) for w in payload.get("word_exclusions") or ()],
        topics=list(payload.get("topics") or ()), content_types=list(payload.get("content_types") or ()),
        sources=list(payload.get("sources") or ()), calibration=Calibration.from_payload(payload.get("calibration")),
        design={f: (float(w[0]), float(w[1])) for f, w in design.items()} if design else None,
        asked_types=list(payload.get("asked_types") or ()), translated_ok=bool(payload.get("translated_ok", 0)),
    )


def subscriber_point(s: Subscriber) -> IndexPoint:
    payload = {"kind": PROFILE, "subscriber_id": s.subscriber_id, "organisation_id": s.organisation_id,
               "version": s.version, "model": s.model, "active": int(s.active), "urgent_alerts": int(s.urgent_alerts),
               "deleted": int(s.deleted)}
    return IndexPoint(point_id(s.subscriber_id, PROFILE), payload, sparse={})


def subscriber_from_payload(payload: dict) -> Subscriber:
    return Subscriber(payload["subscriber_id"], payload.get("organisation_id", ""), int(payload.get("version", -1)),
                      payload.get("model", ""), bool(payload.get("active", 1)), bool(payload.get("urgent_alerts", 1)),
                      bool(payload.get("deleted", 0)))


def awaiting_point(event: ProfileChanged, keys: list[str]) -> IndexPoint:
    """A profile's example papers not found yet: the lookup keys ('field=value') of the items
    that would be them, and the event to apply again when one arrives."""
    payload = {"subscriber_id": event.subscriber_id, "kind": AWAITING, "active": 0, "awaiting": keys,
               "event": event.model_dump_json()}
    return IndexPoint(point_id(event.subscriber_id, AWAITING), payload, sparse={})
