"""The topic taxonomy: a librarian-editable YAML file of topics, loaded and validated.

The packaged taxonomy lives in `services/classify/data/taxonomy.yaml`. A deployment may point
at its own copy; a file with a mistake in it (an unknown key, a missing field, two topics with
one id) is refused with a message that names the topic and the fault, because a silently
half-loaded taxonomy would quietly mis-tag every item.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "taxonomy.yaml"

_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class TaxonomyError(ValueError):
    """The taxonomy file cannot be used; the message says where and why."""


class Topic(BaseModel):
    """One topic a subscriber can choose and an item can be tagged with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id, lower case letters, digits and '_', e.g. 'cardiology'.")
    label: str = Field(min_length=1, description="Human label, e.g. 'Cardiology'.")
    description: str = Field(min_length=1, description="One or two sentences saying what it covers.")
    synonyms: list[str] = Field(
        default_factory=list,
        description="Words and phrases that name the topic in a text (UK and US spellings).",
    )
    group: str = Field(min_length=1, description="Family of topics, e.g. 'specialty' or 'profession'.")
    urgent: bool = Field(default=False, description="Items strongly on this topic are sent at once.")

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not value or not value[0].isalpha() or not set(value) <= _ID_CHARS:
            raise ValueError("must be lower case letters, digits and '_', starting with a letter")
        return value

    @field_validator("synonyms")
    @classmethod
    def _clean_synonyms(cls, value: list[str]) -> list[str]:
        cleaned = [s.strip() for s in value]
        if any(not s for s in cleaned):
            raise ValueError("synonyms must not be empty strings")
        return cleaned


@dataclass(frozen=True)
class Taxonomy:
    """The topics, in file order (parse_taxonomy refuses two with one id)."""

    topics: list[Topic]

    def urgent_ids(self) -> frozenset[str]:
        """Ids of the topics marked urgent: items strongly on them are sent at once."""
        return frozenset(t.id for t in self.topics if t.urgent)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy YAML file (default: the packaged one); raises TaxonomyError."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read the taxonomy file ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path}: not valid YAML: {exc}") from exc
    taxonomy = parse_taxonomy(raw, source=str(path))
    log.info("taxonomy loaded", extra={"path": str(path), "topics": len(taxonomy.topics)})
    return taxonomy


def parse_taxonomy(raw: object, source: str = "taxonomy") -> Taxonomy:
    """Validate the parsed YAML document (a mapping with a 'topics' list) into a Taxonomy."""
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{source}: expected a mapping with a 'topics' list at the top")
    extra = sorted(set(raw) - {"version", "topics"})
    if extra:
        raise TaxonomyError(f"{source}: unknown top-level key(s) {', '.join(map(repr, extra))}")
    entries = raw.get("topics")
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(f"{source}: 'topics' must be a non-empty list")
    topics: list[Topic] = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        topic_id = entry.get("id") if isinstance(entry, dict) else None
        where = f"{source}: topic #{number}" + (f" (id {topic_id!r})" if topic_id else "")
        if not isinstance(entry, dict):
            raise TaxonomyError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
        try:
            topic = Topic.model_validate(entry)
        except ValidationError as exc:
            raise TaxonomyError(f"{where}: {_describe(exc)}") from exc
        if topic.id in first_seen:
            raise TaxonomyError(
                f"{where}: duplicate topic id {topic.id!r} (first used by topic #{first_seen[topic.id]})"
            )
        first_seen[topic.id] = number
        topics.append(topic)
    return Taxonomy(topics)


def _describe(exc: ValidationError) -> str:
    """Pydantic's errors in a librarian's words: 'missing field', 'unknown key', ..."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "topic"
        if err["type"] == "missing":
            parts.append(f"missing field {field!r}")
        elif err["type"] == "extra_forbidden":
            parts.append(f"unknown key {field!r}")
        else:
            parts.append(f"field {field!r}: {err['msg']}")
    return "; ".join(parts)
