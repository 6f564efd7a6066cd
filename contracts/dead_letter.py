"""A message a consumer could not process, kept with its error; and the record of its replay."""

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
    body: str = Field(description="The original message body, decoded as UTF-8 with replacement (its first "
                                  "1,000 characters only when `body_base64` holds the exact bytes).")
    reason: str = Field(default="", description="Why it was parked: poison, an unknown error after its tries, "
                                                "or a dependency still down past the deadline.")
    body_base64: str | None = Field(default=None, description="The original body's bytes in base64, only when "
                                                              "they are not valid UTF-8 (`body` is then lossy).")
    headers: dict[str, str] = Field(default_factory=dict, description="The original message's headers.")

    def original_value(self) -> bytes:
        """The original message body, byte for byte."""
        import base64

        return base64.b64decode(self.body_base64) if self.body_base64 is not None else self.body.encode("utf-8")


class LetterReplayed(BaseModel):
    """A dead letter that `horizon dlq replay` republished to its original topic (keyed by the
    letter's place, so that a second replay skips it)."""

    dead_letter_topic: str = Field(description="The dead-letter topic the letter is on.")
    dead_letter_partition: int = Field(description="The letter's partition there.")
    dead_letter_offset: int = Field(description="The letter's offset there.")
    topic: str = Field(description="The original topic the message was republished to.")
    consumer: str = Field(description="The service that had parked it.")
    original_partition: int | None = Field(default=None, description="Where the message first was: partition.")
    original_offset: int | None = Field(default=None, description="Where the message first was: offset.")
    replayed_at: datetime = Field(description="When it was republished (UTC).")
