"""Classify's settings: one table, env prefix HORIZON_CLASSIFY_ (QDRANT_URL is accepted too)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ClassifySettings(BaseSettings):
    """Every setting of the classify service, with its default."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_CLASSIFY_", extra="ignore")

    model: str = Field(
        default="",
        description="sentence-transformers model name or path; empty = packaged all-MiniLM-L6-v2.",
    )
    max_seq_length: int = Field(
        default=256, ge=16, le=512, description="Token truncation of title + abstract (see embedder.py)."
    )
    batch_size: int = Field(default=32, ge=1, description="Encode batch size.")
    device: str | None = Field(default=None, description="torch device; None = auto (GPU when present).")
    index_backend: Literal["edge", "client", "memory"] = Field(
        default="edge",
        description="edge = Qdrant Edge on disk; client = Qdrant server (or local mode); "
        "memory = qdrant-client in-memory (tests, demos).",
    )
    qdrant_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HORIZON_CLASSIFY_QDRANT_URL", "QDRANT_URL"),
        description="Qdrant server URL for index_backend=client; unset = local mode under data_dir.",
    )
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
