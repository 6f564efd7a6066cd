"""A subscriber form's topics, content types and sources: what was ticked or typed, by name,
turned into ids, with a message next to the field for each name Horizon does not know."""

from __future__ import annotations

from typing import Any

from services.subscriptions import vocabulary

CHOSEN = ("topics", "content_types", "sources")


def _picked(form: Any, key: str) -> list[str]:
    """Ticked boxes and the typed names (comma or line separated) of one field."""
    raw = [str(v) for v in form.getlist(key)] + [str(form.get(f"{key}_text", ""))]
    return [p.strip() for v in raw for line in v.replace("\r", "").split("\n") for p in line.split(",") if p.strip()]


def resolve(form: Any, sources: list | None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The ids of the topics, content types and sources chosen, and errors by field. Sources are
    checked only when ingest's list could be had (`sources` is None otherwise: ids pass as given)."""
    values: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    topics, unknown = vocabulary.resolve_topics(_picked(form, "topics"))
    values["topics"] = topics
    if unknown:
        errors["topics"] = vocabulary.unknown_message(
            "a topic", unknown, "Choose topics from the list, or type a name from it such as “Cardiology” "
            "or “Older people and frailty”; say anything else as an interest statement.")
    types, unknown = vocabulary.resolve_content_types(_picked(form, "content_types"))
    values["content_types"] = types
    if unknown:
        errors["content_types"] = vocabulary.unknown_message(
            "a content type", unknown, "Tick the types wanted, e.g. “Randomised controlled trial” or “Guideline”; "
            "tick none to receive every type.")
    picked = _picked(form, "sources")
    if sources is None:
        values["sources"] = picked
    else:
        ids, unknown = vocabulary.resolve_sources(picked, sources)
        values["sources"] = ids
        if unknown:
            errors["sources"] = vocabulary.unknown_message(
                "a source", unknown, "Tick sources from the list; add a new feed on the Sources page first.")
    return values, errors
