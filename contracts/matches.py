"""Matches: which subscriber should see which item, and why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event
from contracts.vocab import EvidenceType


class MatchReason(BaseModel):
    """One reason an item matched: a statement, an example paper, a chosen topic, or the kind of
    evidence a statement asks for."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["interest", "example", "topic", "evidence", "library"] = Field(
        description="What in the profile matched: a statement, an example paper, a topic, or the kind of evidence "
                    "(systematic review, trial...) a statement asks for; 'library': sent by the library team."
    )
    text: str = Field(description="The interest statement, example reference, topic label or evidence type.")
    score: float = Field(description="Similarity or tag score behind this reason.")


class ItemMatched(Event):
    """An item matched one subscriber's profile above the threshold."""

    item_id: str = Field(description="The matched item (see ItemClassified for its content).")
    subscriber_id: str = Field(description="The subscriber whose profile matched.")
    organisation_id: str = Field(description="The subscriber's organisation.")
    score: float = Field(description="Calibrated match score in [0, 1]; higher is better.")
    reasons: list[MatchReason] = Field(default_factory=list, description="Best reason first.")
    evidence_type: EvidenceType = Field(default=EvidenceType.other, description="The item's evidence type.")
    urgent: bool = Field(default=False, description="Send as an alert now, not only in the next digest.")
