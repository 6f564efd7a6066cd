"""What notify reports: digests sent and subscribers' feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.envelope import Event


class DigestSent(Event):
    """A digest, alert or briefing was delivered."""

    digest_id: str = Field(description="Stable id of the delivery: kind, subscriber and period.")
    kind: Literal["digest", "alert", "briefing"] = Field(default="digest", description="What was sent.")
    subscriber_id: str = Field(description="The recipient.")
    organisation_id: str = Field(description="The recipient's organisation.")
    period: str = Field(description="The period it covers, e.g. '2026-W48' or '2026-11'.")
    item_ids: list[str] = Field(default_factory=list, description="The items it carried, in order.")
    item_titles: list[str] = Field(default_factory=list, description=(
        "The items' titles, aligned with item_ids, where the sender knows them (a librarian's delivery log "
        "shows them); empty from older senders."))
    message_id: str = Field(default="", description="The e-mail's Message-ID header.")
    sent_at: datetime = Field(description="When the transport accepted it (UTC).")


class FeedbackGiven(Event):
    """A subscriber clicked an item or said whether it was useful."""

    subscriber_id: str = Field(description="Who gave the feedback.")
    organisation_id: str = Field(default="", description="Their organisation.")
    item_id: str = Field(description="The item the feedback is about.")
    digest_id: str = Field(default="", description="The digest the link was in.")
    verdict: Literal["click", "useful", "not_relevant", "full_text_request"] = Field(
        description="A click through, a rating, or a request for the full text from the library."
    )
    title: str = Field(default="", description="The item's title (on full-text requests: the library's queue shows it).")
    url: str = Field(default="", description="The item's link (on full-text requests).")
