"""Names librarians choose from, and what they stand for: the taxonomy's topics (the file classify
tags with, shipped as data), evidence types, and sources by title.

Every `resolve_*` takes what a librarian picked or typed (an id, a label, a common name such as
'RCT') and returns the ids and the values it does not know, for a message next to the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from contracts import EvidenceType

DEFAULT_TAXONOMY = Path(__file__).resolve().parents[1] / "classify" / "data" / "taxonomy.yaml"
_taxonomy_path = DEFAULT_TAXONOMY

GROUP_LABELS = {"specialty": "Specialties", "condition": "Conditions", "population": "Populations",
                "profession": "Professions", "safety": "Safety", "service": "Services", "system": "Health system",
                "public_health": "Public health", "knowledge": "Evidence and knowledge"}

TYPE_LABELS = {
    "guideline": "Guideline", "systematic_review": "Systematic review or meta-analysis",
    "trial": "Randomised controlled trial", "observational": "Observational study (cohort, case-control)",
    "qualitative": "Qualitative study", "review": "Review (narrative)", "policy": "Policy",
    "report": "Report", "news": "News", "safety_alert": "Safety alert", "article": "Other journal article",
    "other": "Other",
}
TYPE_ALIASES = {
    "rct": "trial", "rcts": "trial", "randomised controlled trial": "trial", "randomized controlled trial": "trial",
    "clinical trial": "trial", "trials": "trial", "systematic review": "systematic_review",
    "systematic reviews": "systematic_review", "meta-analysis": "systematic_review", "meta analysis": "systematic_review",
    "guidelines": "guideline", "guidance": "guideline", "cohort": "observational", "cohort study": "observational",
    "case-control": "observational", "observational study": "observational", "qualitative study": "qualitative",
    "safety alerts": "safety_alert", "alert": "safety_alert", "narrative review": "review", "reviews": "review",
}


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    group: str


def configure(path: Path | str | None) -> None:
    """Use another taxonomy file (HORIZON_SUBSCRIPTIONS_TAXONOMY_PATH)."""
    global _taxonomy_path
    _taxonomy_path = Path(path) if path else DEFAULT_TAXONOMY


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[Topic, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(Topic(str(t["id"]), str(t.get("label") or t["id"]), str(t.get("group", "")))
                 for t in data.get("topics", []))


def topics() -> tuple[Topic, ...]:
    try:
        return _load(_taxonomy_path)
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return ()


def grouped_topics() -> list[tuple[str, list[Topic]]]:
    groups: dict[str, list[Topic]] = {}
    for t in topics():
        groups.setdefault(t.group, []).append(t)
    return [(GROUP_LABELS.get(g, g.replace("_", " ").capitalize() or "Other"), sorted(ts, key=lambda t: t.label))
            for g, ts in groups.items()]


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def topic_label(topic_id: str) -> str:
    return next((t.label for t in topics() if t.id == topic_id), topic_id)


def content_type_label(type_id: str) -> str:
    return TYPE_LABELS.get(str(type_id), str(type_id).replace("_", " ").capitalize())


def resolve_topics(values: list[str]) -> tuple[list[str], list[str]]:
    known = topics()
    if not known:  # the taxonomy could not be read: take ids as given rather than refuse every one
        return list(dict.fromkeys(values)), []
    by_key = {_key(t.id): t.id for t in known} | {_key(t.label): t.id for t in known}
    return _resolve(values, by_key)


def resolve_content_types(values: list[str]) -> tuple[list[str], list[str]]:
    by_key = {_key(t.value): t.value for t in EvidenceType} | {_key(v): k for k, v in TYPE_LABELS.items()} \
        | {_key(a): k for a, k in TYPE_ALIASES.items()}
    return _resolve(values, by_key)


def resolve_sources(values: list[str], sources: list) -> tuple[list[str], list[str]]:
    """Sources by id, title or address (as ingest lists them)."""
    by_key: dict[str, str] = {}
    for s in sources:
        for name in (s.url, s.title, s.source_id):
            if name:
                by_key.setdefault(_key(name), s.source_id)
    return _resolve(values, by_key)


def _resolve(values: list[str], by_key: dict[str, str]) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    unknown: list[str] = []
    for value in values:
        found = by_key.get(_key(value))
        if found is None:
            unknown.append(value)
        elif found not in ids:
            ids.append(found)
    return ids, unknown


def unknown_message(what: str, unknown: list[str], hint: str) -> str:
    names = ", ".join(f"“{u}”" for u in unknown[:5]) + (" and others" if len(unknown) > 5 else "")
    return f"Horizon does not know {names} as {what}. {hint}"


def checked_topics(values: list[str]) -> tuple[list[str], str | None]:
    """Topics given by id or label as ids, or a message naming those the taxonomy lacks (the API
    and the subscribers file: a name that matches nothing must not be kept silently)."""
    ids, unknown = resolve_topics(values)
    if unknown:
        return ids, unknown_message("a topic", unknown, "Use a topic's id or name from the taxonomy, e.g. "
                                    "'cardiology' or 'Older people and frailty'.")
    return ids, None
