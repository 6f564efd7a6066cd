"""Matches: which subscriber should see which item, and why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event
from contracts.vocab import EvidenceType


class MatchReason(BaseModel):
    """One reason an item matched: a statement, an example paper or a chosen topic."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["interest", "example", "topic"]
    text: str = Field(description="The interest statement, example reference or topic label.")
    score: float = Field(description="Similarity or tag score behind this reason.")


class ItemMatched(Event):
    """An item matched one subscriber's profile above the threshold."""

    item_id: str
    subscriber_id: str
    organisation_id: str
    score: float = Field(description="Calibrated match score in [0, 1]; higher is better.")
    reasons: list[MatchReason] = Field(default_factory=list, description="Best reason first.")
    evidence_type: EvidenceType = EvidenceType.other
    urgent: bool = False
