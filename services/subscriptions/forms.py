"""Pure conversion between HTML form fields and the subscriber models."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.subscriptions.schemas import LIST_KEYS

BOOL_KEYS = ("urgent_alerts", "board_briefing")
TEXT_KEYS = ("name", "email", "role", "frequency", "weekday", "hour", "organisation_id", "status")


def lines(value: str) -> list[str]:
    """A textarea, one value per line (commas also separate topics, sources and content types)."""
    return [v.strip() for v in value.replace("\r", "").split("\n") if v.strip()]


def from_form(form: Any, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The subscriber fields a form sent; checkboxes absent mean False."""
    data: dict[str, Any] = {}
    for key in TEXT_KEYS:
        if key in form and (keys is None or key in keys) and str(form[key]).strip() != "":
            data[key] = str(form[key])
    for key in LIST_KEYS:
        if key in form and (keys is None or key in keys):
            values = lines(str(form[key]))
            if key in ("topics", "sources", "content_types"):
                values = [p.strip() for v in values for p in v.split(",") if p.strip()]
            data[key] = values
    for key in BOOL_KEYS:
        if keys is None or key in keys:
            data[key] = form.get(key) in ("on", "true", "1")
    return data


def to_form(values: dict[str, Any]) -> dict[str, Any]:
    """Values ready to fill a form: lists become one line each."""
    return {k: "\n".join(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else v
            for k, v in values.items()}


def errors_of(exc: ValidationError) -> dict[str, str]:
    """Field name -> message, for showing next to each field."""
    out: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        field = str(err["loc"][0]) if err["loc"] else "form"
        out.setdefault(field, err["msg"])
    return out
