"""The shapes subscribers take at the edges: the file format's row, API input and output.

`SubscriberFields` is one subscriber as a librarian writes it (the subscribers file's keys,
the API's body): unknown keys are errors, missing optional keys take their defaults.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from contracts import EvidenceType, Frequency, Weekday
from services.subscriptions.characters import check_single_line

_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_EXAMPLE = re.compile(r"^(doi:10\.\d{4,9}/\S+|pmid:\d{1,9}|https?://\S+)$", re.IGNORECASE)


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not a valid e-mail address")
    return value


def _example(value: str) -> str:
    if not _EXAMPLE.match(value):
        raise ValueError("an example is 'doi:10.…', 'pmid:<digits>' or an http(s) URL")
    return value


#: Checked before stripping: a line break or control character anywhere is refused, not trimmed.
OneLine = BeforeValidator(check_single_line)
Text = Annotated[str, OneLine, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[str, OneLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, OneLine, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(_email)]
Statement = Annotated[str, OneLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Word = Annotated[str, OneLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Example = Annotated[str, OneLine, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_example)]
Statements = Annotated[list[Statement], Field(max_length=50)]
Words = Annotated[list[Word], Field(max_length=100)]


class SubscriberFields(BaseModel):
    """One subscriber as written in the subscribers file or sent to the API."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    role: Text = ""
    frequency: Frequency = Frequency.weekly
    weekday: Weekday = Weekday.monday
    hour: int = Field(default=7, ge=0, le=23)
    urgent_alerts: bool = True
    interests: Statements = Field(default_factory=list)
    topics: Words = Field(default_factory=list)
    examples: Annotated[list[Example], Field(max_length=50)] = Field(default_factory=list)
    exclude: Statements = Field(default_factory=list)
    content_types: list[EvidenceType] = Field(default_factory=list)
    sources: Words = Field(default_factory=list)
    board_briefing: bool | None = Field(
        default=None, description="Receives the organisation's monthly board briefing; left out: unchanged on import.")


#: The keys of the subscribers file, in the order an export writes them.
FILE_KEYS = tuple(SubscriberFields.model_fields)
LIST_KEYS = ("interests", "topics", "examples", "exclude", "content_types", "sources")


class SubscriberCreate(SubscriberFields):
    """POST /api/subscribers: a new subscriber in one of the caller's organisations."""

    organisation_id: str | None = Field(
        default=None, description="Needed when the caller belongs to more than one organisation."
    )
    board_briefing: bool = False


class SubscriberUpdate(BaseModel):
    """PATCH /api/subscribers/{id}: only the keys given change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: Email | None = None
    role: Text | None = None
    frequency: Frequency | None = None
    weekday: Weekday | None = None
    hour: int | None = Field(default=None, ge=0, le=23)
    urgent_alerts: bool | None = None
    interests: Statements | None = None
    topics: Words | None = None
    examples: Annotated[list[Example], Field(max_length=50)] | None = None
    exclude: Statements | None = None
    content_types: list[EvidenceType] | None = None
    sources: Words | None = None
    board_briefing: bool | None = None
    status: Annotated[str, StringConstraints(pattern="^(active|unsubscribed)$")] | None = None


class ExamplePaperPublic(BaseModel):
    """What Horizon found for one example paper (see papers.py for the statuses)."""

    ref: str
    status: str = Field(description="pending | resolved | not_found | unavailable | failed | by_url")
    title: str = ""
    source: str = Field(default="", description="pubmed | crossref, once resolved")
    error: str = ""


class SubscriberRef(BaseModel):
    id: str
    name: str


class UnfoundPaper(BaseModel):
    """An example paper that could not be found, and the subscribers who name it."""

    ref: str
    status: str = Field(description="not_found | failed")
    error: str = ""
    subscribers: list[SubscriberRef]


class SubscriberPublic(SubscriberFields):
    """A subscriber as the API returns it."""

    model_config = ConfigDict(extra="ignore")

    example_papers: list[ExamplePaperPublic] = Field(
        default_factory=list, description="Each example's lookup, in the order of `examples`.")
    liked: list[str] = Field(default_factory=list,
                             description="Items the subscriber marked useful (item ids, newest first).")
    disliked: list[str] = Field(default_factory=list,
                                description="Items the subscriber marked not relevant (item ids, newest first).")

    id: str
    organisation_id: str
    organisation_name: str
    status: str
    version: int
    board_briefing: bool
    created_at: datetime
    updated_at: datetime


class RowError(BaseModel):
    """Why one row of an imported file was refused (row 0: the file as a whole)."""

    row: int
    email: str = ""
    message: str


class ImportReport(BaseModel):
    organisation_id: str | None = None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = Field(default_factory=list)
