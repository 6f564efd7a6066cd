"""The notify service's SQL tables: subscribers' state, matched items, the delivery log, feedback.

Times are aware UTC datetimes (SQLModel's UTCDateTime keeps SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time (a naive one is taken as UTC already)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def aware(moment: datetime) -> datetime:
    """A time read back from the database, aware (SQLite returns naive UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


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


class ScheduleRow(SQLModel, table=True):
    """When one subscriber is next due, whether anything waits for them, and who owns them.

    The scheduler pages through these rows instead of loading every profile and match. Event
    application keeps them current: a match sets `pending` (once its item is classified), a
    profile sets `live`, `alerts` and `board` and clears `next_due_at` (None: visit at the next
    round, which works out the real time). Every such write bumps `seq`, so the scheduler's own
    update, made after it has sent, can tell that something arrived meanwhile and leave the row.
    """

    __tablename__ = "notify_schedule"
    __table_args__ = (Index("ix_notify_schedule_due", "live", "pending", "next_due_at"),)

    subscriber_id: str = Field(primary_key=True)
    partition: int | None = Field(default=None, index=True, description="Partition of the matches topic.")
    live: bool = False  # an active profile: someone to send to
    pending: bool = False  # matched items whose classification has arrived, not yet taken
    urgent_pending: bool = False  # ... and at least one of them urgent
    alerts: bool = False  # the profile wants urgent alerts
    board: bool = Field(default=False, index=True)  # receives the board briefing
    next_due_at: datetime | None = None
    seq: int = 0


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
    # the day the item counts on in a briefing: its publication date, or when first seen where it
    # has none or gives a future one (None on rows older than the column: classified_at stands in)
    dated_at: datetime | None = Field(default=None, index=True)


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
    max_delivery_runs; kept for librarians to see). While an instance sends a row it holds a
    lease on it (owner, lease_until), so another instance resumes it only once the lease has run
    out: after the owner died, never while it is still sending.
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
    #: The message's bytes until it is sent (kept after only with NotifySettings.keep_sent_messages).
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: No longer written (the HTML is inside `raw`); kept so that databases made before still insert.
    html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None
    published: bool = Field(default=False, index=True)
    owner: str | None = Field(default=None, description="The notify instance sending it now.")
    lease_until: datetime | None = Field(default=None, description="Until when `owner` holds it.")
    link_id: str | None = Field(default=None, index=True, description="Names this delivery in its links (links.py).")


@dataclass(slots=True)
class Delivery:
    """A delivery as the send path holds it, from its intent to its outcome: a DeliveryRow's
    fields in a plain object (an ORM object takes about as long to make as the message itself)."""

    subscriber_id: str
    kind: str
    period: str
    organisation_id: str
    digest_id: str
    message_id: str
    recipient: str
    item_ids: list[str]
    raw: bytes
    created_at: datetime
    link_id: str | None = None
    status: str = "sending"
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    owner: str | None = None
    lease_until: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subscriber_id, self.kind, self.period)

    @classmethod
    def of(cls, row: DeliveryRow) -> Delivery:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    def values(self) -> dict[str, Any]:
        """Its row's columns, for an insert."""
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"html": "", "published": False}


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
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # full-text requests: what was asked for
    url: str | None = None


class UnroutedRow(SQLModel, table=True):
    """An urgent item that matched nobody within the grace period; `published` once on the
    unrouted topic (unrouted.py)."""

    __tablename__ = "notify_unrouted"

    item_id: str = Field(primary_key=True)
    noticed_at: datetime
    event: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published: bool = Field(default=False, index=True)
