"""What notify reports: digests sent and subscribers' feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.envelope import Event


class DigestSent(Event):
    """A digest, alert or briefing was delivered."""

    digest_id: str
    kind: Literal["digest", "alert", "briefing"] = "digest"
    subscriber_id: str
    organisation_id: str
    period: str = Field(description="The period it covers, e.g. '2026-W48' or '2026-11'.")
    item_ids: list[str] = Field(default_factory=list)
    message_id: str = Field(default="", description="The e-mail's Message-ID header.")
    sent_at: datetime


class FeedbackGiven(Event):
    """A subscriber clicked an item or said whether it was useful."""

    subscriber_id: str
    organisation_id: str = ""
    item_id: str
    digest_id: str = ""
    verdict: Literal["click", "useful", "not_relevant", "full_text_request"]
