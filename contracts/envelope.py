"""The envelope every event carries: identity, time, origin and schema version."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field

_NAMESPACE = uuid.UUID("6f1c7a52-3c1e-4d0b-9a57-2f0f5f3b8e11")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def new_event_id() -> str:
    """A fresh random event id."""
    return str(uuid.uuid4())


def derived_event_id(*parts: str) -> str:
    """A deterministic event id from its causes, so a redelivered input yields the same output ids.

    A consumer that reprocesses an input after a crash republishes events with the same ids,
    and every downstream consumer, idempotent on the event id, ignores the repeats. The value is
    str(uuid.uuid5(namespace, parts joined)), computed directly: an item reaching tens of
    thousands of subscribers needs as many ids.
    """
    b = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode("utf-8")).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x50  # version 5
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Event(BaseModel):
    """Base of every event on a Horizon topic."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: str = Field(
        default_factory=new_event_id,
        description="Unique id of this event; consumers use it as the idempotency key.",
    )
    occurred_at: datetime = Field(
        default_factory=utcnow, description="When the fact happened (UTC, ISO 8601 with offset)."
    )
    producer: str = Field(description="The service that published the event, e.g. 'ingest'.")
    schema_version: int = Field(
        default=1, description="Version of this event's schema; changes within a version are additive."
    )
