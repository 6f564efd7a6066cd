"""Items: what ingest discovers and classify tags."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event
from contracts.vocab import ContentType, EvidenceType


class Item(BaseModel):
    """One published work (article, guideline, policy, alert), normalised from a feed entry."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    item_id: str = Field(
        description="Stable id: 'doi:<doi>', else 'pmid:<pmid>', else 'url:<canonical url>', "
        "else 'guid:<source>:<guid>', else 'hash:<sha256 of title and source>'."
    )
    source_id: str = Field(description="Id of the source (feed) it came from.")
    source_title: str = Field(default="", description="Human name of the source, e.g. 'NICE guidance'.")
    title: str = Field(description="Clean plain-text title.")
    summary: str = Field(default="", description="Plain-text abstract or summary, HTML removed.")
    url: str = Field(default="", description="Canonical link to the work (tracking parameters stripped).")
    doi: str | None = Field(default=None, description="DOI in lower case without a resolver prefix.")
    pmid: str | None = Field(default=None, description="PubMed id, digits only.")
    guid: str | None = Field(default=None, description="The feed entry's own id, if any.")
    authors: list[str] = Field(default_factory=list, description="Author names as the feed gives them.")
    published_at: datetime | None = Field(default=None, description="Publication time with offset.")
    updated_at: datetime | None = Field(default=None, description="Last revision time with offset.")
    publisher: str = Field(default="", description="Journal or publishing body.")
    language: str | None = Field(default=None, description="ISO 639-1 language code, if known.")
    content_type: ContentType = Field(
        default=ContentType.journal_article, description="The source's kind, refined from the entry."
    )
    content_hash: str = Field(
        default="", description="Hash of title and summary; a change marks a revised item."
    )


class ItemDiscovered(Event):
    """Ingest found a new item, or a revision of one it had already published."""

    item: Item = Field(description="The normalised item.")
    revision: int = Field(default=0, description="0 for a new item; n for its n-th revision.")


class TopicTag(BaseModel):
    """A taxonomy topic applied to an item, with the tagger's score."""

    model_config = ConfigDict(frozen=True)

    topic_id: str = Field(description="Id in the topic taxonomy, e.g. 'cardiology'.")
    label: str = Field(description="Human label, e.g. 'Cardiology'.")
    score: float = Field(description="Tag score in [0, 1].")


class ItemClassified(Event):
    """Classify embedded and tagged an item."""

    item: Item = Field(description="The item as ingest published it.")
    revision: int = Field(default=0, description="The revision of the item that was classified.")
    tags: list[TopicTag] = Field(default_factory=list, description="Topic tags, best first.")
    evidence_type: EvidenceType = Field(description="Inferred kind of evidence.")
    urgent: bool = Field(
        default=False, description="A safety alert or new national guidance: send promptly."
    )
    model: str = Field(default="", description="Embedding model that produced the vector.")
