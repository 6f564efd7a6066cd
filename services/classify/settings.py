"""Classify's settings: one table, env prefix HORIZON_CLASSIFY_ (QDRANT_URL is accepted too)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import PARTITIONS, PROFILES
from services.common.service_auth import DEV_KEY, check_key


class ClassifySettings(BaseSettings):
    """Every setting of the classify service, with its default."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_CLASSIFY_", extra="ignore")

    model: str = Field(default="",
                       description="sentence-transformers model name or path; empty = packaged all-MiniLM-L6-v2.")
    max_seq_length: int = Field(
        default=256, ge=16, le=512, description="Token truncation of title + abstract (see embedder.py)."
    )
    batch_size: int = Field(default=32, ge=1, description="Encode batch size.")
    device: str | None = Field(default=None, description="torch device; None = auto (GPU when present).")
    index_backend: Literal["edge", "client", "memory"] = Field(
        default="edge", description="edge = Qdrant Edge on disk; client = Qdrant server (or local mode); "
        "memory = qdrant-client in-memory (tests, demos).")
    qdrant_url: str | None = Field(
        default=None, validation_alias=AliasChoices("HORIZON_CLASSIFY_QDRANT_URL", "QDRANT_URL"),
        description="Qdrant server URL for index_backend=client; unset = local mode under data_dir.")
    qdrant_api_key: SecretStr | None = Field(default=None, description="Qdrant server API key, if any.")
    data_dir: Path = Field(default=Path("var/classify"), description="Where the index and stats live.")
    threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Calibrated match score at or above which an item is sent."
    )
    recent_days: int = Field(default=30, ge=1, description="How long items are kept for preview.")
    max_tags: int = Field(default=5, ge=0, description="Topic tags kept per item.")
    tag_threshold: float = Field(default=0.4, ge=0.0, le=1.0, description="Lowest tag score kept.")
    taxonomy_path: Path | None = Field(
        default=None, description="A librarian-edited taxonomy YAML; unset = the packaged one."
    )
    api_host: str = Field(default="127.0.0.1", description="Host of the preview API the app serves.")
    api_port: int = Field(default=8002, ge=0, description="Port of the preview API; 0 = do not serve.")
    subscriptions_key: SecretStr = Field(
        default=SecretStr(DEV_KEY),
        description="The key subscriptions (the librarian UI) calls the preview API with; must be set unless DEV.")
    max_request_bytes: int = Field(
        default=512 * 1024, ge=1024, description="Largest request body the preview API reads (a profile); 413 above."
    )
    dev: bool = Field(default=False, description="Development mode: the default key, and /docs, are allowed.")
    shards: int = Field(default=1, ge=1, description="classify processes the profiles are split between.")
    shard: int = Field(default=0, ge=0, description="This process's shard: it owns the profiles topic's "
                       "partitions p with p % shards == shard, and reads every item.")
    profile_partitions: int = Field(default=PARTITIONS[PROFILES], ge=1,
                                    description="Partitions of the profiles topic (checked against the broker at start).")

    @model_validator(mode="after")
    def _shard_in_range(self) -> "ClassifySettings":
        if self.shard >= self.shards:
            raise ValueError(f"shard {self.shard} out of range for {self.shards} shards (0 to {self.shards - 1})")
        if self.shards > self.profile_partitions:
            raise ValueError(f"{self.shards} shards need at least as many profile partitions "
                             f"(the topic has {self.profile_partitions})")
        return self

    def check_api_keys(self) -> None:
        """Fail fast (InsecureKey) when the API would accept a default key outside development mode."""
        check_key("HORIZON_CLASSIFY_SUBSCRIPTIONS_KEY", self.subscriptions_key, self.dev)

    def owned_partitions(self) -> list[int]:
        """The profiles topic's partitions this process owns."""
        return [p for p in range(self.profile_partitions) if p % self.shards == self.shard]
