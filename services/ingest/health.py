"""A source's health after a poll: success resets the failure count, failure backs off. Pure.

A failing feed is never dropped: it keeps its error (kind and message), its failure count and
its next attempt, and stays visible in the API. Only HTTP 410 Gone disables a source.
"""

from __future__ import annotations

from datetime import datetime

from services.ingest.errors import ErrorKind, IngestError
from services.ingest.schedule import Policy, after_failure, after_success
from services.ingest.tables import Source


def _copy(source: Source, **changes: object) -> Source:
    data = source.model_dump()
    data.update(changes)
    return Source.model_validate(data)


def record_success(source: Source, now: datetime, policy: Policy, rand: float, *, etag: str | None,
                   last_modified: str | None, moved_to: str | None, items: int | None,
                   warning: IngestError | None) -> Source:
    """The source after a fetch that parsed (or a 304): validators kept, failures reset."""
    changes: dict[str, object] = {
        "last_attempt_at": now,
        "last_success_at": now,
        "consecutive_failures": 0,
        "next_attempt_at": after_success(now, source.poll_interval_s, policy, rand),
        "etag": etag or source.etag,
        "last_modified": last_modified or source.last_modified,
    }
    if items is not None:  # a 304 leaves the last count and warning as they were
        changes["last_item_count"] = items
        changes["last_warning"] = f"{warning.kind}: {warning.message}"[:2000] if warning else None
    if moved_to:
        changes["url"] = moved_to
    return _copy(source, **changes)


def record_failure(source: Source, now: datetime, error: IngestError, policy: Policy, rand: float, *,
                   retry_after_s: float | None = None, moved_to: str | None = None) -> Source:
    """The source after a failed fetch or an unusable body: error kept, next attempt backed off."""
    failures = source.consecutive_failures + 1
    changes: dict[str, object] = {
        "last_attempt_at": now,
        "last_error_kind": error.kind.value,
        "last_error_message": error.message[:2000],
        "last_error_at": now,
        "consecutive_failures": failures,
        "next_attempt_at": after_failure(now, failures, policy, rand, retry_after_s),
    }
    if moved_to:
        changes["url"] = moved_to
    if error.kind is ErrorKind.gone:
        changes["enabled"] = False
        changes["next_attempt_at"] = None
    return _copy(source, **changes)


def is_healthy(source: Source) -> bool:
    """Healthy when enabled and the last attempt did not fail."""
    return source.enabled and source.consecutive_failures == 0
