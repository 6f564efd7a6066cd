"""Pure mapping from stored rows to the contract: Profile and ProfileChanged, field by field."""

from __future__ import annotations

from typing import Any

from contracts import EvidenceType, Frequency, Profile, ProfileChanged, Weekday
from services.subscriptions.models import ProfileRow, Subscriber

PRODUCER = "subscriptions"


def to_profile(sub: Subscriber, prof: ProfileRow, organisation_name: str, board_briefing: bool,
               example_texts: list[str] | None = None) -> Profile:
    return Profile(
        name=sub.name,
        email=sub.email,
        role=sub.role,
        organisation_name=organisation_name,
        active=sub.status == "active",
        frequency=Frequency(prof.frequency),
        weekday=Weekday(prof.weekday),
        hour=prof.hour,
        urgent_alerts=prof.urgent_alerts,
        interests=list(prof.interests),
        topics=list(prof.topics),
        examples=list(prof.examples),
        example_texts=list(example_texts or []),  # aligned with examples; "" where not resolved (papers.py)
        exclude=list(prof.exclude),
        content_types=[EvidenceType(c) for c in prof.content_types],
        sources=list(prof.sources),
        board_briefing=board_briefing,
        liked=list(prof.liked or []),
        disliked=list(prof.disliked or []),
    )


def changed(sub: Subscriber, prof: ProfileRow, organisation_name: str, board_briefing: bool,
            example_texts: list[str] | None = None) -> ProfileChanged:
    """The event for a created or changed subscriber, at the subscriber's current version."""
    return ProfileChanged(
        producer=PRODUCER,
        subscriber_id=sub.id,
        organisation_id=sub.organisation_id,
        version=sub.version,
        profile=to_profile(sub, prof, organisation_name, board_briefing, example_texts),
    )


def tombstone(subscriber_id: str, organisation_id: str, version: int) -> ProfileChanged:
    """The event for a deleted subscriber: every service forgets them."""
    return ProfileChanged(
        producer=PRODUCER,
        subscriber_id=subscriber_id,
        organisation_id=organisation_id,
        version=version,
        deleted=True,
        profile=None,
    )


def file_row(sub: Subscriber, prof: ProfileRow) -> dict[str, Any]:
    """A subscriber as a row of the subscribers file (the keys of SubscriberFields)."""
    return {
        "name": sub.name,
        "email": sub.email,
        "role": sub.role,
        "frequency": prof.frequency,
        "weekday": prof.weekday,
        "hour": prof.hour,
        "urgent_alerts": prof.urgent_alerts,
        "interests": list(prof.interests),
        "topics": list(prof.topics),
        "examples": list(prof.examples),
        "exclude": list(prof.exclude),
        "content_types": list(prof.content_types),
        "sources": list(prof.sources),
    }


def apply_fields(sub: Subscriber, prof: ProfileRow, fields: dict[str, Any]) -> bool:
    """Copy validated fields onto the rows; True when anything changed."""
    before = (sub.model_dump(), prof.model_dump())
    for key, value in fields.items():
        if key in ("name", "email", "role", "status"):
            setattr(sub, key, value)
            if key == "email":
                sub.email_key = value.lower()
        elif key in ProfileRow.model_fields and key != "subscriber_id":
            if isinstance(value, list):
                value = [str(v) for v in value]
            elif hasattr(value, "value"):
                value = value.value
            setattr(prof, key, value)
    return before != (sub.model_dump(), prof.model_dump())
