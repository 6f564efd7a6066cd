"""Where the Kafka brokers are, who this service is to them, and how its consumers retry.

A secure broker (what `horizon kafka start`, `horizon up` and docker-compose run) takes only
clients that sign in with SASL/SCRAM as one of the service principals (`ingest`, `classify`,
`subscriptions`, `notify`; `admin` for topics and `horizon dlq`), over TLS where the broker has
a certificate (`SASL_SSL`), and its ACLs let each principal write and read only its own topics.
Every Kafka client of a service (FastStream's, and the small admin, lag and readiness clients
beside it) is built from one `KafkaSettings`, so all of them sign in the same way:
`client_options()` for aiokafka, `broker_security()` for FastStream.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.retry import RetryPolicy


class KafkaSettings(BaseSettings):
    """Where the broker is, how this service signs in, and how consumers behave."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_KAFKA_")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="PLAINTEXT only for a development broker; SASL_SSL where the broker has TLS.")
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    username: str = Field(default="", description="This service's principal (its name), for SASL.")
    password: SecretStr = Field(default=SecretStr(""), description="That principal's SCRAM password.")
    ssl_cafile: Path | None = Field(default=None, description="CA certificate(s) the broker's is checked "
                                                              "against (SASL_SSL); unset = the system's.")
    retry_attempts: int = Field(default=3, ge=1)  # tries of an unknown error
    retry_backoff_s: float = Field(default=0.5, ge=0)
    retry_backoff_max_s: float = Field(default=60.0, ge=0)
    transient_deadline_s: float = Field(default=6 * 3600.0, ge=0)  # a dependency down this long: park

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> "KafkaSettings":
        if self.sasl and not (self.username and self.password.get_secret_value()):
            raise ValueError(f"HORIZON_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                             "HORIZON_KAFKA_USERNAME and HORIZON_KAFKA_PASSWORD")
        return self

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(transient_deadline_s=self.transient_deadline_s, unknown_attempts=self.retry_attempts,
                           backoff_s=self.retry_backoff_s, backoff_max_s=self.retry_backoff_max_s)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for SASL_SSL (the broker's certificate and host name checked); None otherwise."""
        if self.security_protocol != "SASL_SSL":
            return None
        return ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin, plain client)."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers,
                                   "security_protocol": self.security_protocol}
        if self.sasl:
            options |= {"sasl_mechanism": self.sasl_mechanism, "sasl_plain_username": self.username,
                        "sasl_plain_password": self.password.get_secret_value()}
        if self.security_protocol == "SASL_SSL":
            options["ssl_context"] = self.ssl_context()
        return options

    def broker_security(self) -> Any:
        """FastStream's security object for KafkaBroker(security=...); None for PLAINTEXT."""
        if not self.sasl:
            return None
        from faststream.security import SASLScram256, SASLScram512

        kind = SASLScram512 if self.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
        return kind(self.username, self.password.get_secret_value(), ssl_context=self.ssl_context(),
                    use_ssl=self.security_protocol == "SASL_SSL")


def kafka_settings(kafka: KafkaSettings | str | None) -> KafkaSettings:
    """Settings from what a caller has: settings, a bootstrap address (the rest from the
    environment), or nothing (all from the environment)."""
    if isinstance(kafka, KafkaSettings):
        return kafka
    return KafkaSettings(bootstrap_servers=kafka) if kafka else KafkaSettings()
