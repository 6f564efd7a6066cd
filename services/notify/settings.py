"""The notify service's settings: one table, read from HORIZON_NOTIFY_* variables.

| variable | default | meaning |
|---|---|---|
| HORIZON_NOTIFY_DATABASE_URL (or DATABASE_URL) | sqlite:///var/notify/notify.db | SQLAlchemy URL; postgresql:// uses psycopg 3 |
| HORIZON_NOTIFY_OUTBOX_DIR | var/outbox | where the default transport writes `.eml` + `.html` |
| HORIZON_NOTIFY_SMTP_URL (or SMTP_URL) | (empty: outbox folder) | smtp://user:pass@host:port?starttls=1, smtps://... for implicit TLS |
| HORIZON_NOTIFY_SMTP_RETRIES | 3 | attempts per message within one run (transient errors only) |
| HORIZON_NOTIFY_SMTP_BACKOFF_S | 1.0 | first back-off between attempts; doubles each time |
| HORIZON_NOTIFY_SMTP_TIMEOUT_S | 30 | SMTP connection/command timeout |
| HORIZON_NOTIFY_SMTP_CONNECTIONS | 4 | SMTP connections kept open and sent on in parallel |
| HORIZON_NOTIFY_KEEP_SENT_MESSAGES | false | keep each sent message's bytes in the delivery log (audits); by default a delivery keeps its facts (recipient, Message-ID, items, times) and drops its 20-50 KB body once sent |
| HORIZON_NOTIFY_MAX_DELIVERY_RUNS | 20 | runs a delivery is retried before it is recorded as failed |
| HORIZON_NOTIFY_FROM_ADDRESS | evidence@library.example.org | sender address; its domain names Message-IDs |
| HORIZON_NOTIFY_MAX_ITEMS | 12 | items shown in one digest (the rest are counted, not shown) |
| HORIZON_NOTIFY_CORRECTIONS_AND_LETTERS | apart | corrections, errata, letters and replies: `apart` (after the papers, under their own heading) or `omit` |
| HORIZON_NOTIFY_LIBRARY_NAME | Horizon Library and Knowledge Service | shown in every e-mail |
| HORIZON_NOTIFY_LIBRARY_LOGO_URL | (empty: no logo) | absolute URL of the logo image |
| HORIZON_NOTIFY_COLOUR_PRIMARY / _TEXT / _BACKGROUND | #005EB8 / #212B32 / #F0F4F5 | brand colours |
| HORIZON_NOTIFY_PUBLIC_BASE_URL | http://127.0.0.1:8004 | base of tracking/feedback links (the links API) |
| HORIZON_NOTIFY_SUBSCRIPTIONS_BASE_URL | http://127.0.0.1:8003 | base of self-service links (/self/{token}) |
| HORIZON_NOTIFY_SECRET_KEY | dev-insecure-secret | signs click/feedback links; must be set unless DEV |
| HORIZON_NOTIFY_SELF_SERVICE_SECRET | dev-insecure-secret | subscriptions' secret for /self links; must be set unless DEV |
| HORIZON_NOTIFY_LINK_MAX_AGE_S | 31536000 (1 year) | how long click/feedback links stay valid |
| HORIZON_NOTIFY_DEV | false | development mode: allows the default secrets |
| HORIZON_NOTIFY_TIMEZONE | Europe/London | the zone of subscribers' weekday and hour |
| HORIZON_NOTIFY_BRIEFING_HOUR | 8 | local hour on the 1st of the month when last month's briefing goes |
| HORIZON_NOTIFY_BASELINE_MONTHS | 3 | months compared against when spotting emerging themes |
| HORIZON_NOTIFY_BRIEFING_PDF | true | attach the briefing as an A4 PDF |
| HORIZON_NOTIFY_BRIEFING_DAY_MAIL | digests | on a board member's briefing day (the 1st, or the day a late briefing goes) what else waits until the next day at their hour: `digests`, `all` (urgent alerts too), or `off` |
| HORIZON_NOTIFY_UNROUTED_GRACE_S | 3600 | how long after classification a safety alert or new national guidance that matched nobody is reported as unrouted (ItemUnrouted) |
| HORIZON_NOTIFY_SCHEDULER_INTERVAL_S | 60 | pause of the app's scheduler loop |
| HORIZON_NOTIFY_SEND_IMMEDIATELY | false | treat pending items as due at once (demos, end-to-end tests) |
| HORIZON_NOTIFY_CONSUMER_GROUP | notify | Kafka consumer group: the instances that split the subscribers between them |
| HORIZON_NOTIFY_BATCH_MAX_RECORDS | 500 | most records one consumer batch holds (applied in one transaction) |
| HORIZON_NOTIFY_BATCH_TIMEOUT_MS | 200 | how long a consumer waits to fill a batch |
| HORIZON_NOTIFY_INSTANCE_ID | (empty: host-pid-random) | this instance's name on the intents it is sending (leases) |
| HORIZON_NOTIFY_SEND_LEASE_S | 120 | how long an instance holds an intent it sends before another may resume it (renewed while sending) |
| HORIZON_NOTIFY_COMPOSE_PROCESSES | 0 | worker processes that compose pages of digests (0: the scheduler's thread does); worth it only on a host with idle cores |
| HORIZON_NOTIFY_PAGE_SIZE | 500 | subscribers (and their pending items) the scheduler loads at once; a round pages through all |
| HORIZON_NOTIFY_METRICS_HOST | 127.0.0.1 | host of the scheduler process's /metrics, /ready and /health |
| HORIZON_NOTIFY_METRICS_PORT | 0 (off) | their port (the links app serves its own on its port) |
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-insecure-secret"


class NotifySettings(BaseSettings):
    """Everything the notify service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_NOTIFY_", populate_by_name=True)

    database_url: str = Field(
        default="sqlite:///var/notify/notify.db",
        validation_alias=AliasChoices("HORIZON_NOTIFY_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    outbox_dir: Path = Path("var/outbox")
    smtp_url: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("HORIZON_NOTIFY_SMTP_URL", "SMTP_URL", "smtp_url"),
    )
    smtp_retries: int = Field(default=3, ge=1)
    smtp_backoff_s: float = Field(default=1.0, ge=0)
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    smtp_connections: int = Field(default=4, ge=1)
    smtp_process: bool = True
    max_delivery_runs: int = Field(default=20, ge=1)
    keep_sent_messages: bool = False
    from_address: str = "evidence@library.example.org"
    max_items: int = Field(default=12, ge=1)
    corrections_and_letters: Literal["apart", "omit"] = "apart"
    library_name: str = "Horizon Library and Knowledge Service"
    library_logo_url: str = ""
    colour_primary: str = Field(default="#005EB8", pattern=r"^#[0-9A-Fa-f]{6}$")
    colour_text: str = Field(default="#212B32", pattern=r"^#[0-9A-Fa-f]{6}$")
    colour_background: str = Field(default="#F0F4F5", pattern=r"^#[0-9A-Fa-f]{6}$")
    public_base_url: str = "http://127.0.0.1:8004"
    subscriptions_base_url: str = "http://127.0.0.1:8003"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    self_service_secret: SecretStr = SecretStr(DEFAULT_SECRET)
    link_max_age_s: int = Field(default=365 * 24 * 3600, gt=0)
    dev: bool = False
    timezone: str = "Europe/London"
    briefing_hour: int = Field(default=8, ge=0, le=23)
    briefing_pdf: bool = True
    baseline_months: int = Field(default=3, ge=1)
    unrouted_grace_s: float = Field(default=3600.0, ge=0)
    briefing_day_mail: Literal["digests", "all", "off"] = "digests"
    scheduler_interval_s: float = Field(default=60.0, gt=0)
    send_immediately: bool = False
    consumer_group: str = Field(default="notify", min_length=1)
    batch_max_records: int = Field(default=500, ge=1)
    batch_timeout_ms: int = Field(default=200, ge=1)
    page_size: int = Field(default=500, ge=1)
    compose_processes: int = Field(default=0, ge=0)
    instance_id: str = ""
    send_lease_s: float = Field(default=120.0, gt=0)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)

    @model_validator(mode="after")
    def _secrets_are_set_outside_dev(self) -> "NotifySettings":
        if self.dev:
            return self
        for name in ("secret_key", "self_service_secret"):
            secret = getattr(self, name).get_secret_value()
            if secret == DEFAULT_SECRET or len(secret) < 16:
                raise ValueError(
                    f"HORIZON_NOTIFY_{name.upper()} must be set to a secret of at least 16 characters "
                    "(or HORIZON_NOTIFY_DEV=true for development)"
                )
        return self

    @property
    def mail_domain(self) -> str:
        """The domain of the sender address, used on the right of Message-IDs."""
        return self.from_address.rpartition("@")[2] or "horizon.invalid"
