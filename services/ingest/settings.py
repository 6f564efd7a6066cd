"""Every setting of the ingest service, with its default and meaning (env prefix HORIZON_INGEST_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.service_auth import DEV_KEY, check_key


class IngestSettings(BaseSettings):
    """The ingest service's settings: one table, read once at the composition root."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_INGEST_")

    database_url: str = Field(
        default="sqlite:///var/ingest.db",
        description="SQLAlchemy URL of the sources and seen-items store (PostgreSQL in production).",
    )
    user_agent: str = Field(
        default="Horizon-ingest/0.1 (+https://github.com/horizon-nhs/horizon; evidence alerting)",
        description="User-Agent header naming the service on every fetch.",
    )
    connect_timeout_s: float = Field(default=10.0, gt=0, description="TCP/TLS connect timeout.")
    read_timeout_s: float = Field(default=30.0, gt=0, description="Timeout between bytes received.")
    total_timeout_s: float = Field(default=60.0, gt=0, description="Whole-response deadline (slow bodies).")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="Larger bodies are cut off.")
    max_redirects: int = Field(default=5, ge=0, description="Redirects followed per fetch.")
    allow_private_addresses: bool = Field(
        default=False, description="Fetch from private, loopback and link-local addresses (tests only)."
    )
    allow_file_urls: bool = Field(default=False, description="Read file:// source URLs (demo and e2e only).")
    default_poll_interval_s: int = Field(default=3600, ge=60, description="Poll interval of a new source.")
    jitter_fraction: float = Field(default=0.1, ge=0, le=1, description="Random spread of each schedule.")
    backoff_base_s: int = Field(default=300, ge=1, description="First retry delay after a failure.")
    backoff_max_s: int = Field(default=86400, ge=1, description="Cap of the exponential back-off.")
    retry_after_max_s: int = Field(default=86400, ge=1, description="Longest Retry-After honoured.")
    poll_tick_s: float = Field(default=30.0, gt=0, description="How often the loop looks for due sources.")
    fetch_concurrency: int = Field(default=4, ge=1, description="Sources fetched at the same time.")
    outbox_hold_s: float = Field(
        default=120.0, gt=0, description="Seconds a poller keeps the events it claimed to publish itself before "
        "the outbox relay (of any ingest process) may; longer than one poll's publishes take.",
    )
    near_duplicate_threshold: float = Field(
        default=0.92, ge=0, le=1, description="Normalised-title similarity above which two items are one work."
    )
    api_host: str = Field(default="127.0.0.1", description="Host of the sources/health HTTP API.")
    api_port: int = Field(default=8001, description="Port of the sources/health HTTP API; 0 = do not serve.")
    subscriptions_key: SecretStr = Field(
        default=SecretStr(DEV_KEY),
        description="The key subscriptions (the librarian UI) calls the API with; must be set unless DEV.",
    )
    max_request_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Largest request body the API reads (an OPML import); 413 above."
    )
    dev: bool = Field(default=False, description="Development mode: the default key, and /docs, are allowed.")

    def check_api_keys(self) -> None:
        """Fail fast (InsecureKey) when the API would accept a default key outside development mode."""
        check_key("HORIZON_INGEST_SUBSCRIPTIONS_KEY", self.subscriptions_key, self.dev)
