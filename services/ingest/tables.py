"""SQL tables of ingest (SQLModel): sources with their health, the works already seen, the outbox.

Model families per direction, as in the FastAPI template: `SourceCreate` and `SourceUpdate` come
in through the CLI and API, `Source` is the stored row, `SourcePublic` goes out with its health.

`create_all` makes missing tables on every start, so a database written by an older version
gains `outboxevent` by itself; no existing table changed shape (see seen.py on the claim).
"""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import field_validator
from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from contracts import ContentType


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every datetime ingest stores is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


#: The longest poll interval (30 days): past any feed's rhythm, and far inside what the schedule's
#: date arithmetic and the database's integers hold (past them a request failed with a 500).
MAX_POLL_INTERVAL_S = 30 * 86400


class SourceBase(SQLModel):
    """The fields a librarian sets on a source."""

    url: str = Field(index=True, description="Feed URL (http, https, or file when allowed).")
    title: str = Field(default="", description="Human name, e.g. 'NICE guidance'.")
    publisher: str = Field(default="", description="Journal or publishing body, when the feed does not say.")
    content_type: ContentType = Field(default=ContentType.journal_article, description="Default content type.")
    poll_interval_s: int = Field(default=3600, ge=60, le=MAX_POLL_INTERVAL_S, description="Seconds between polls.")
    enabled: bool = Field(default=True, description="Polled when true.")


class SourceCreate(SourceBase):
    """A new source; `id` is derived from the URL unless given."""

    id: str | None = None

    @field_validator("url")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        value = value.strip()
        if "://" not in value:
            raise ValueError("the URL needs a scheme, e.g. https://")
        return value


class SourceUpdate(SQLModel):
    """Fields to change on a source; unset fields stay as they are."""

    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    content_type: ContentType | None = None
    poll_interval_s: int | None = Field(default=None, ge=60, le=MAX_POLL_INTERVAL_S)
    enabled: bool | None = None


class SourceHealth(SQLModel):
    """How polling a source is going."""

    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_kind: str | None = None
    last_error_message: str | None = None
    last_error_at: datetime | None = None
    last_warning: str | None = Field(default=None, description="A problem met on the last success (bozo feed).")
    consecutive_failures: int = 0
    next_attempt_at: datetime | None = Field(default=None, index=True)
    last_item_count: int = 0


class Source(SourceBase, SourceHealth, table=True):
    """A stored source: what the librarian set, the conditional-GET validators and its health."""

    id: str = Field(primary_key=True)
    etag: str | None = None
    last_modified: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


class SourcePublic(SourceBase, SourceHealth):
    """A source as the API shows it, health included."""

    id: str
    source_id: str = Field(default="", description="The same as id (the name the librarian UI reads).")
    healthy: bool = True
    status: str = Field(default="ok", description="'ok', 'failing' or 'disabled'.")
    last_error: str | None = Field(default=None, description="'<kind>: <message>' of the last error, if any.")
    items_30d: int = Field(default=0, description="Works first seen from this source in the last 30 days.")


class SeenItem(SQLModel, table=True):
    """A work ingest has published, under its canonical item id."""

    item_id: str = Field(primary_key=True)
    source_id: str = Field(index=True, description="The source it was first published from.")
    title_key: str = ""
    title_prefix: str = Field(default="", index=True)
    doi: str | None = None
    content_hash: str = ""
    revision: int = 0
    first_seen_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    last_seen_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


class Sighting(SQLModel, table=True):
    """A source carrying a known work, with the content it last showed (revisions are per source)."""

    item_id: str = Field(primary_key=True)
    source_id: str = Field(primary_key=True)
    content_hash: str = ""


class Alias(SQLModel, table=True):
    """An id a known work is claimed under: its own id, and each other id under which it arrived
    (a PMID id of a work first seen by DOI). The primary key makes each id belong to one work."""

    alias_id: str = Field(primary_key=True)
    item_id: str = Field(index=True)


class OutboxEvent(SQLModel, table=True):
    """An ItemDiscovered claimed but not yet published: written in its claim's transaction, deleted
    once the broker took it. The claimer publishes it at once; the relay takes it after
    `publish_after` (a crash or a failed publish in between), and `attempts` counts its takes."""

    event_id: str = Field(primary_key=True)
    item_id: str
    source_id: str
    revision: int = 0
    payload: str = Field(sa_column=Column(Text, nullable=False), description="The event as JSON.")
    claimed_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    publish_after: datetime = Field(index=True)
    attempts: int = 0
