"""The subscriptions database: organisations, librarians, subscribers, profiles, outbox, engagement.

SQLModel table classes only; the Alembic migrations under `migrations/` create exactly these.
Lists (interests, topics, ...) are JSON columns, which SQLite and PostgreSQL both hold.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint, event
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.subscriptions.links import link_key


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(timezone.utc)


class Table(SQLModel, registry=registry()):
    """Base of this service's tables: their own metadata, so other services' tables never clash."""


metadata = Table.metadata


def _ts(**kw) -> Column:
    return Column(DateTime(timezone=True), **kw)


class Organisation(Table, table=True):
    __tablename__ = "organisations"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))


class Librarian(Table, table=True):
    __tablename__ = "librarians"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="librarian", max_length=20)  # "admin" | "librarian"
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))


class Membership(Table, table=True):
    """A librarian belongs to (and may act for) an organisation."""

    __tablename__ = "memberships"

    librarian_id: str = Field(foreign_key="librarians.id", primary_key=True, max_length=36)
    organisation_id: str = Field(foreign_key="organisations.id", primary_key=True, max_length=36)


class ApiToken(Table, table=True):
    """A librarian's API token; only its SHA-256 is stored. Every token has an expiry."""

    __tablename__ = "api_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    librarian_id: str = Field(foreign_key="librarians.id", index=True, max_length=36)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked: bool = False
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class WebSessionRow(Table, table=True):
    """A librarian's web session, held on the server: the cookie carries a random value whose
    SHA-256 is the id, so logging out (or a password change, or disabling) ends it for good."""

    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64)
    librarian_id: str = Field(foreign_key="librarians.id", index=True, max_length=36)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    last_seen_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False, index=True))


class LoginAttempt(Table, table=True):
    """Failed log-ins counted per key (an account's e-mail hash, or an address) in a window."""

    __tablename__ = "login_attempts"

    key: str = Field(primary_key=True, max_length=100)
    failures: int = 0
    window_started_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Subscriber(Table, table=True):
    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("organisation_id", "email_key", name="uq_subscriber_org_email"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    organisation_id: str = Field(foreign_key="organisations.id", index=True, max_length=36)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    email_key: str = Field(max_length=320, index=True)  # lower-cased e-mail: the identity on import
    role: str = Field(default="", max_length=200)
    status: str = Field(default="active", max_length=20)  # "active" | "unsubscribed"
    version: int = 0  # bumped on every change; the ProfileChanged version
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    # names the subscriber in self-service links (links.link_key of the id); set on insert
    link_key: str | None = Field(default=None, max_length=32, unique=True, index=True)


@event.listens_for(Subscriber, "before_insert")
def _give_link_key(_mapper, _connection, subscriber: Subscriber) -> None:
    subscriber.link_key = link_key(subscriber.id)


class ProfileRow(Table, table=True):
    """A subscriber's interest profile and delivery preferences (one per subscriber)."""

    __tablename__ = "profiles"

    subscriber_id: str = Field(foreign_key="subscribers.id", primary_key=True, max_length=36)
    frequency: str = Field(default="weekly", max_length=10)
    weekday: str = Field(default="monday", max_length=10)
    hour: int = 7
    urgent_alerts: bool = True
    interests: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    examples: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    exclude: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    content_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # learnt from the subscriber's feedback (item ids, newest first), not from the subscribers file
    liked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    disliked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


class ExamplePaper(Table, table=True):
    """An example paper named in profiles, and its title and abstract once looked up (papers.py)."""

    __tablename__ = "example_papers"

    ref: str = Field(primary_key=True, max_length=500)  # 'doi:…' (lower case), 'pmid:…' or a URL
    status: str = Field(default="pending", max_length=20, index=True)
    title: str = Field(default="", max_length=1000)
    abstract: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source: str = Field(default="", max_length=20)  # "pubmed" | "crossref"
    error: str = Field(default="", max_length=600)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))


class BoardRecipient(Table, table=True):
    """A subscriber who receives their organisation's board briefing."""

    __tablename__ = "board_recipients"

    organisation_id: str = Field(foreign_key="organisations.id", primary_key=True, max_length=36)
    subscriber_id: str = Field(foreign_key="subscribers.id", primary_key=True, max_length=36)


class OutboxRow(Table, table=True):
    """An event written in the same transaction as the change it reports; the relay publishes it."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)
    topic: str = Field(max_length=200)
    key: str = Field(max_length=200)
    payload: str  # the event as JSON
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))


class MailRow(Table, table=True):
    """An e-mail to send (a self-service link a subscriber asked for), written with the request.

    The subscriptions app sends it (mail.py); once sent its body, which holds the link, is
    cleared and the row kept a while to space out requests. Erasing the subscriber deletes it.
    """

    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: str = Field(max_length=36, index=True)
    purpose: str = Field(max_length=20)  # "export" | "delete"
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attempts: int = 0
    last_error: str = Field(default="", max_length=600)
    created_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))


class ProcessedEvent(Table, table=True):
    """Ids of consumed events, so that a redelivered event is counted once."""

    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))


class Engagement(Table, table=True):
    """Counts per organisation from notify's DigestSent and FeedbackGiven."""

    __tablename__ = "engagement"

    organisation_id: str = Field(primary_key=True, max_length=36)
    digests: int = 0
    clicks: int = 0
    useful: int = 0
    not_relevant: int = 0
    full_text_requests: int = 0


class ReachRow(Table, table=True):
    """One row per distinct subscriber an organisation's digests reached (reach = count of rows)."""

    __tablename__ = "reach"

    organisation_id: str = Field(primary_key=True, max_length=36)
    subscriber_id: str = Field(primary_key=True, max_length=36)


class UnroutedItem(Table, table=True):
    """An urgent item (safety alert, new national guidance) that matched nobody: notify's
    ItemUnrouted, waiting for a librarian to send it on (unrouted.py)."""

    __tablename__ = "unrouted_items"

    item_id: str = Field(primary_key=True, max_length=300)
    title: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(default="", max_length=2000)
    source_title: str = Field(default="", max_length=300)
    evidence_type: str = Field(max_length=40)
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    noticed_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False, index=True))


class UnroutedRouting(Table, table=True):
    """A librarian sent an unrouted item to subscribers of one organisation (it waits no more there)."""

    __tablename__ = "unrouted_routings"

    item_id: str = Field(primary_key=True, max_length=300)
    organisation_id: str = Field(primary_key=True, max_length=36)
    routed_by: str = Field(default="", max_length=320)
    subscribers: int = 0
    routed_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))


class FullTextRequest(Table, table=True):
    """A subscriber asked the library for an item's full text (requests.py): new -> supplied -> closed."""

    __tablename__ = "full_text_requests"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    organisation_id: str = Field(default="", max_length=36, index=True)
    subscriber_id: str = Field(max_length=36, index=True)
    item_id: str = Field(max_length=300)
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    url: str = Field(default="", max_length=2000)
    status: str = Field(default="new", max_length=20, index=True)  # "new" | "supplied" | "closed"
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    requested_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False))
    mailed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DeliveryLog(Table, table=True):
    """One delivery to one subscriber, from notify's DigestSent: the subscriber's history."""

    __tablename__ = "delivery_log"

    id: int | None = Field(default=None, primary_key=True)
    digest_id: str = Field(max_length=200, index=True)
    subscriber_id: str = Field(max_length=36, index=True)
    organisation_id: str = Field(max_length=36, index=True)
    kind: str = Field(default="digest", max_length=20)  # "digest" | "alert" | "briefing"
    period: str = Field(default="", max_length=40)
    item_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    item_titles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sent_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False, index=True))


class FeedbackLog(Table, table=True):
    """One click or verdict from notify's FeedbackGiven, with its time: per-subscriber history and
    impact over a date range (the Engagement row keeps the all-time counts)."""

    __tablename__ = "feedback_log"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: str = Field(max_length=36, index=True)
    organisation_id: str = Field(default="", max_length=36, index=True)
    item_id: str = Field(max_length=500)
    digest_id: str = Field(default="", max_length=200)
    verdict: str = Field(max_length=20)  # "click" | "useful" | "not_relevant" | "full_text_request"
    occurred_at: datetime = Field(default_factory=now, sa_column=_ts(nullable=False, index=True))
