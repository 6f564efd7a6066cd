"""A message a consumer could not process, kept with its error."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DeadLetter(BaseModel):
    """The body of a message on a dead-letter topic (the raw original is kept verbatim)."""

    topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    consumer: str = Field(description="The service (consumer group) that gave up on it.")
    error: str = Field(description="Exception type and message.")
    attempts: int = 1
    failed_at: datetime
    body: str = Field(description="The original message body, decoded as UTF-8 with replacement.")
