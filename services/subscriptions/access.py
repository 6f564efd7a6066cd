"""Who may reach what: the actor's organisations, and expected failures as values."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from services.subscriptions.auth import organisation_ids
from services.subscriptions.models import Librarian


@dataclass(frozen=True)
class Problem:
    """An expected failure: the HTTP status it maps to and a message for people."""

    status: int
    message: str


NOT_FOUND = Problem(404, "subscriber not found")


def scope(session: Session, actor: Librarian | None) -> set[str] | None:
    """The organisation ids the actor may reach; None means all (the system itself)."""
    return None if actor is None else organisation_ids(session, actor)
