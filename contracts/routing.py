"""Urgent items that matched nobody, and the library team sending them on by hand.

notify publishes ItemUnrouted when a patient safety alert or new national guidance has matched
no subscriber a grace period after it was classified; subscriptions lists it for librarians,
and publishes ItemRouted when a librarian sends it to chosen subscribers; notify then delivers
it to each of them as an urgent item "sent by your library team".
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from contracts.envelope import Event
from contracts.vocab import EvidenceType


class ItemUnrouted(Event):
    """An urgent item reached no subscriber of any organisation."""

    item_id: str = Field(description="The item (see ItemClassified).")
    title: str = Field(description="Its title, as librarians see it in the list.")
    url: str = Field(default="", description="Its link.")
    source_title: str = Field(default="", description="The feed or publisher it came from.")
    evidence_type: EvidenceType = Field(description="safety_alert or guideline.")
    published_at: datetime | None = Field(default=None, description="When it was published, where known.")
    classified_at: datetime = Field(description="When Horizon classified it (UTC).")


class ItemRouted(Event):
    """A librarian sent an item to chosen subscribers of one organisation."""

    item_id: str = Field(description="The item sent.")
    organisation_id: str = Field(description="The organisation of every subscriber named.")
    subscriber_ids: list[str] = Field(description="Who it goes to.")
    routed_by: str = Field(default="", description="The librarian who sent it (e-mail).")
    note: str = Field(default="", description="A line from the librarian, shown with the item.")
