"""A message a consumer could not process, kept with its error."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DeadLetter(BaseModel):
    """The body of a message on a dead-letter topic (the raw original is kept verbatim)."""

    topic: str = Field(description="The topic the message was read from.")
    partition: int | None = Field(default=None, description="Its partition.")
    offset: int | None = Field(default=None, description="Its offset in that partition.")
    key: str | None = Field(default=None, description="Its Kafka key.")
    consumer: str = Field(description="The service (consumer group) that gave up on it.")
    error: str = Field(description="Exception type and message.")
    attempts: int = Field(default=1, description="How many times processing was tried.")
    failed_at: datetime = Field(description="When the consumer gave up (UTC).")
    body: str = Field(description="The original message body, decoded as UTF-8 with replacement.")
