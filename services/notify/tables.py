"""The notify service's SQL tables: subscribers' state, matched items, the delivery log, feedback.

Times are aware UTC datetimes (SQLModel's UTCDateTime keeps SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel


class ProcessedEvent(SQLModel, table=True):
    """An event already applied: the idempotency record."""

    __tablename__ = "notify_processed_event"

    event_id: str = Field(primary_key=True)
    processed_at: datetime


class SubscriberRow(SQLModel, table=True):
    """The latest profile of one subscriber, or the tombstone of a deleted one."""

    __tablename__ = "notify_subscriber"

    subscriber_id: str = Field(primary_key=True)
    organisation_id: str = Field(index=True)
    version: int
    deleted: bool = False
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ItemRow(SQLModel, table=True):
    """A classified item: what a digest shows."""

    __tablename__ = "notify_item"

    item_id: str = Field(primary_key=True)
    revision: int = 0
    item: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    tags: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence_type: str
    urgent: bool = False
    classified_at: datetime = Field(index=True)


class MatchRow(SQLModel, table=True):
    """One item matched to one subscriber, and which delivery (if any) has taken it."""

    __tablename__ = "notify_match"

    subscriber_id: str = Field(primary_key=True)
    item_id: str = Field(primary_key=True, index=True)
    organisation_id: str = Field(index=True)
    score: float
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence_type: str
    urgent: bool = False
    matched_at: datetime = Field(index=True)
    delivery: str | None = Field(default=None, index=True, description="Key of the delivery that took it.")


class DeliveryRow(SQLModel, table=True):
    """The delivery log: one row per (subscriber, kind, period), written before sending.

    status: 'sending' (intent recorded, message fixed), 'sent', or 'failed' (given up after
    max_delivery_runs; kept for librarians to see).
    """

    __tablename__ = "notify_delivery"

    subscriber_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    period: str = Field(primary_key=True)
    organisation_id: str = Field(index=True)
    digest_id: str = Field(index=True)
    message_id: str
    recipient: str
    status: str = Field(index=True)
    item_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    html: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None
    published: bool = Field(default=False, index=True)


class FeedbackRow(SQLModel, table=True):
    """A click, verdict or full-text request from a link; `published` once on the feedback topic."""

    __tablename__ = "notify_feedback"

    event_id: str = Field(primary_key=True)
    subscriber_id: str = Field(index=True)
    organisation_id: str = ""
    item_id: str
    digest_id: str = ""
    verdict: str
    occurred_at: datetime
    published: bool = Field(default=False, index=True)
