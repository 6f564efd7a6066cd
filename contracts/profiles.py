"""Subscriber profiles, as subscriptions publishes them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.envelope import Event
from contracts.vocab import EvidenceType, Frequency, Weekday


class Profile(BaseModel):
    """What one subscriber wants, and how to reach them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(description="The subscriber's name, as used in greetings.")
    email: str = Field(description="Where digests and alerts go.")
    role: str = Field(default="", description="Role or profession, e.g. 'Consultant cardiologist'.")
    organisation_name: str = Field(default="", description="Human name of the organisation.")
    active: bool = Field(default=True, description="False once unsubscribed: keep, but send nothing.")
    frequency: Frequency = Field(default=Frequency.weekly, description="How often digests are sent.")
    weekday: Weekday = Field(default=Weekday.monday, description="Day for weekly digests.")
    hour: int = Field(default=7, ge=0, le=23, description="Hour of sending, Europe/London time.")
    urgent_alerts: bool = Field(default=True, description="Receive urgent items straight away.")
    interests: list[str] = Field(default_factory=list, description="Free-text interest statements.")
    topics: list[str] = Field(default_factory=list, description="Topic taxonomy ids.")
    examples: list[str] = Field(
        default_factory=list, description="Example papers: 'doi:...', 'pmid:...' or a URL."
    )
    example_texts: list[str] = Field(
        default_factory=list,
        description="Title and abstract of each example paper, in the order of `examples`; an empty "
        "string where the paper could not be resolved (classify then looks for it among the items it has seen).",
    )
    exclude: list[str] = Field(default_factory=list, description="Statements or words not wanted.")
    liked: list[str] = Field(
        default_factory=list,
        description="Items the subscriber marked useful (item ids, newest first): more like these.",
    )
    disliked: list[str] = Field(
        default_factory=list,
        description="Items the subscriber marked not relevant (item ids, newest first): not these again.",
    )
    content_types: list[EvidenceType] = Field(default_factory=list, description="Empty means all.")
    sources: list[str] = Field(default_factory=list, description="Source ids to restrict to; empty means all.")
    board_briefing: bool = Field(default=False, description="Receives the organisation's board briefing.")


class ProfileChanged(Event):
    """A subscriber's profile was created, changed, or deleted (a tombstone: deleted, no profile)."""

    subscriber_id: str = Field(description="The subscriber's stable id.")
    organisation_id: str = Field(description="The organisation the subscriber belongs to.")
    version: int = Field(description="Monotonic per subscriber; consumers ignore older versions.")
    deleted: bool = Field(default=False, description="A tombstone: forget this subscriber everywhere.")
    profile: Profile | None = Field(default=None, description="The whole current profile; none on a tombstone.")

    @model_validator(mode="after")
    def _tombstone_has_no_profile(self) -> "ProfileChanged":
        if self.deleted and self.profile is not None:
            raise ValueError("a tombstone (deleted=True) carries no profile")
        if not self.deleted and self.profile is None:
            raise ValueError("a live ProfileChanged needs a profile")
        return self
