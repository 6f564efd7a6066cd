"""The subscriptions service's settings: one table, read from HORIZON_SUBSCRIPTIONS_* variables.

| variable | default | meaning |
|---|---|---|
| HORIZON_SUBSCRIPTIONS_DATABASE_URL (or DATABASE_URL) | sqlite:///var/subscriptions.db | SQLAlchemy URL; postgresql:// is driven by psycopg 3 |
| HORIZON_SUBSCRIPTIONS_SECRET_KEY | dev-insecure-secret | signs sessions and self-service links; must be changed unless DEV is on |
| HORIZON_SUBSCRIPTIONS_DEV | false | development mode: allows the default secret and plain-http cookies |
| HORIZON_SUBSCRIPTIONS_PUBLIC_BASE_URL | http://127.0.0.1:8003 | base of the links put in e-mails (/self/{token}) |
| HORIZON_SUBSCRIPTIONS_CLASSIFY_URL | http://127.0.0.1:8002 | classify's API (POST /preview) |
| HORIZON_SUBSCRIPTIONS_INGEST_URL | http://127.0.0.1:8001 | ingest's API (GET /sources) |
| HORIZON_SUBSCRIPTIONS_CLASSIFY_KEY | (dev key) | this service's key to classify's API; must be set unless DEV |
| HORIZON_SUBSCRIPTIONS_INGEST_KEY | (dev key) | this service's key to ingest's API; must be set unless DEV |
| HORIZON_SUBSCRIPTIONS_BOOTSTRAP_ADMIN_EMAIL | (none) | an admin created at start when no librarian exists |
| HORIZON_SUBSCRIPTIONS_BOOTSTRAP_ADMIN_PASSWORD | (none) | that admin's password |
| HORIZON_SUBSCRIPTIONS_LINK_MAX_AGE_S | 3888000 (45 days) | how long a preferences or unsubscribe link stays valid |
| HORIZON_SUBSCRIPTIONS_SENSITIVE_LINK_MAX_AGE_S | 3600 (1 hour) | how long an e-mailed export or delete link stays valid |
| HORIZON_SUBSCRIPTIONS_LINK_REQUEST_INTERVAL_S | 300 | at most one export (or delete) link e-mailed to a subscriber this often |
| HORIZON_SUBSCRIPTIONS_SMTP_URL (or SMTP_URL) | (empty: outbox folder) | smtp://user:pass@host:port?starttls=1 (smtps:// for implicit TLS) for those e-mails |
| HORIZON_SUBSCRIPTIONS_FROM_ADDRESS | evidence@library.example.org | their sender |
| HORIZON_SUBSCRIPTIONS_OUTBOX_DIR | var/outbox | where they are written as `.eml` without SMTP |
| HORIZON_SUBSCRIPTIONS_MAIL_INTERVAL_S | 5.0 | pause of the FastStream app's mail sender when nothing waits |
| HORIZON_SUBSCRIPTIONS_REQUESTS_ADDRESS | (empty: no e-mail) | the library's request address: each full-text request is e-mailed there as well as queued in the librarian UI (/requests) |
| HORIZON_SUBSCRIPTIONS_SESSION_MAX_AGE_S | 28800 (8 hours) | a librarian's web session ends this long after log-in, however busy |
| HORIZON_SUBSCRIPTIONS_SESSION_IDLE_S | 1800 (30 minutes) | ... and after this long without a request |
| HORIZON_SUBSCRIPTIONS_API_TOKEN_DAYS | 90 | lifetime of an API token when none is asked for |
| HORIZON_SUBSCRIPTIONS_API_TOKEN_MAX_DAYS | 365 | the longest lifetime a token may be given |
| HORIZON_SUBSCRIPTIONS_LOGIN_MAX_FAILURES | 5 | failed log-ins of one account in the window before it is locked |
| HORIZON_SUBSCRIPTIONS_LOGIN_MAX_FAILURES_PER_ADDRESS | 50 | failed log-ins from one address in the window before it is locked |
| HORIZON_SUBSCRIPTIONS_LOGIN_WINDOW_S | 900 | the window failures are counted in |
| HORIZON_SUBSCRIPTIONS_LOGIN_LOCKOUT_S | 900 | how long a locked account or address is refused (the right password too) |
| HORIZON_SUBSCRIPTIONS_FORM_MAX_BYTES | 262144 (256 KiB) | largest form post (login, every page); refused before it is read. The import upload allows 5 MiB |
| HORIZON_SUBSCRIPTIONS_RELAY_INTERVAL_S | 1.0 | pause of the outbox relay when nothing is pending |
| HORIZON_SUBSCRIPTIONS_RELAY_BATCH | 100 | outbox rows published per relay round |
| HORIZON_SUBSCRIPTIONS_HTTP_TIMEOUT_S | 10.0 | timeout of calls to classify and ingest |
| HORIZON_SUBSCRIPTIONS_MAX_REQUEST_BYTES | 10485760 (10 MiB) | largest request body the web app reads (a subscribers file); 413 above |
| HORIZON_SUBSCRIPTIONS_RESOLVE_EXAMPLES | true | look up example papers' titles and abstracts (PubMed, Crossref) |
| HORIZON_SUBSCRIPTIONS_PUBMED_URL | https://eutils.ncbi.nlm.nih.gov/entrez/eutils | NCBI E-utilities base |
| HORIZON_SUBSCRIPTIONS_CROSSREF_URL | https://api.crossref.org | Crossref REST API base |
| HORIZON_SUBSCRIPTIONS_CONTACT_EMAIL | (none) | sent to both services, as they ask of regular callers |
| HORIZON_SUBSCRIPTIONS_NCBI_API_KEY | (none) | NCBI API key (more requests a second) |
| HORIZON_SUBSCRIPTIONS_RESOLVE_INTERVAL_S | 10.0 | pause of the example-paper lookups when none is due |
| HORIZON_SUBSCRIPTIONS_TAXONOMY_PATH | (classify's shipped taxonomy.yaml) | the topic taxonomy whose names librarians choose from |
| HORIZON_SUBSCRIPTIONS_QUIET_WEEKS | 4 | the home page flags an active subscriber sent nothing for this many weeks |
| HORIZON_SUBSCRIPTIONS_METRICS_HOST | 127.0.0.1 | host of the relay process's /metrics, /ready and /health |
| HORIZON_SUBSCRIPTIONS_METRICS_PORT | 0 (off) | their port (the web app serves its own on its port) |
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.service_auth import DEV_KEY, check_key
from services.subscriptions.throttle import ThrottlePolicy

DEFAULT_SECRET = "dev-insecure-secret"


class SubscriptionsSettings(BaseSettings):
    """Everything the subscriptions service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_SUBSCRIPTIONS_", populate_by_name=True)

    database_url: str = Field(
        default="sqlite:///var/subscriptions.db",
        validation_alias=AliasChoices("HORIZON_SUBSCRIPTIONS_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    dev: bool = False
    public_base_url: str = "http://127.0.0.1:8003"
    classify_url: str = "http://127.0.0.1:8002"
    ingest_url: str = "http://127.0.0.1:8001"
    classify_key: SecretStr = SecretStr(DEV_KEY)
    ingest_key: SecretStr = SecretStr(DEV_KEY)
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: SecretStr | None = None
    link_max_age_s: int = Field(default=45 * 24 * 3600, gt=0)
    sensitive_link_max_age_s: int = Field(default=3600, gt=0)
    link_request_interval_s: int = Field(default=300, ge=0)
    smtp_url: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("HORIZON_SUBSCRIPTIONS_SMTP_URL", "SMTP_URL", "smtp_url"),
    )
    from_address: str = "evidence@library.example.org"
    outbox_dir: Path = Path("var/outbox")
    mail_interval_s: float = Field(default=5.0, gt=0)
    requests_address: str = Field(default="", max_length=320)
    session_max_age_s: int = Field(default=8 * 3600, gt=0)
    session_idle_s: int = Field(default=30 * 60, gt=0)
    api_token_days: int = Field(default=90, gt=0)
    api_token_max_days: int = Field(default=365, gt=0)
    login_max_failures: int = Field(default=5, gt=0)
    login_max_failures_per_address: int = Field(default=50, gt=0)
    login_window_s: int = Field(default=900, gt=0)
    login_lockout_s: int = Field(default=900, gt=0)
    form_max_bytes: int = Field(default=256 * 1024, gt=0)
    relay_interval_s: float = Field(default=1.0, gt=0)
    relay_batch: int = Field(default=100, gt=0)
    http_timeout_s: float = Field(default=10.0, gt=0)
    max_request_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    resolve_examples: bool = True
    pubmed_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    crossref_url: str = "https://api.crossref.org"
    contact_email: str = ""
    ncbi_api_key: SecretStr | None = None
    resolve_interval_s: float = Field(default=10.0, gt=0)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    quiet_weeks: int = Field(default=4, ge=1, le=52)
    taxonomy_path: str = ""

    @model_validator(mode="after")
    def _secret_is_set_outside_dev(self) -> "SubscriptionsSettings":
        secret = self.secret_key.get_secret_value()
        if not self.dev and (secret == DEFAULT_SECRET or len(secret) < 16):
            raise ValueError(
                "HORIZON_SUBSCRIPTIONS_SECRET_KEY must be set to a secret of at least 16 characters "
                "(or HORIZON_SUBSCRIPTIONS_DEV=true for development)"
            )
        return self

    def check_service_keys(self) -> None:
        """Fail fast (InsecureKey) when the keys to ingest's and classify's APIs are left at their
        defaults outside development mode (checked where the web app calls them)."""
        check_key("HORIZON_SUBSCRIPTIONS_CLASSIFY_KEY", self.classify_key, self.dev)
        check_key("HORIZON_SUBSCRIPTIONS_INGEST_KEY", self.ingest_key, self.dev)

    @property
    def throttle_policy(self) -> ThrottlePolicy:
        return ThrottlePolicy(self.login_max_failures, self.login_max_failures_per_address, self.login_window_s,
                              self.login_lockout_s)

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")
