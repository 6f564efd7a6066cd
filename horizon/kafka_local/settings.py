"""Settings of the local broker, and the values its operations return."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KAFKA_VERSION = "4.1.1"
POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
COMPLETE_MARKER = ".complete"


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "horizon"


class KafkaLocalSettings(BaseSettings):
    """Where the local broker keeps its jars and state, and how it listens."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_KAFKA_")

    home: Path = Field(default=Path("var/kafka"), description="State folder: config, data, logs, pid file.")
    port: int = Field(default=9092, description="Client port on 127.0.0.1; the controller listens on port+1.")
    host: str = Field(default="127.0.0.1", description="Address both listeners bind and advertise.")
    cache_dir: Path = Field(default_factory=_default_cache, description="Cache root for the jars.")
    heap: str = Field(default="512m", description="Java maximum heap (-Xmx).")
    start_timeout_s: float = Field(default=90.0, description="How long `start` waits for the broker.")
    stop_timeout_s: float = Field(default=60.0, description="How long `stop` waits after SIGTERM.")
    secure: bool = Field(default=True, description="Clients sign in with SASL/SCRAM as a service principal and "
                         "ACLs limit each to its topics; false = PLAINTEXT, anyone may do anything (tests only).")
    ssl_certfile: Path | None = Field(default=None, description="The broker's certificate chain (PEM); with "
                                      "ssl_keyfile the client port speaks TLS (SASL_SSL).")
    ssl_keyfile: Path | None = Field(default=None, description="The broker's private key (PEM, unencrypted PKCS#8).")
    ssl_cafile: Path | None = Field(default=None, description="The CA certificate(s) the broker's certificate is "
                                    "checked against (by the clients too).")

    @model_validator(mode="after")
    def _tls_needs_both_files(self) -> "KafkaLocalSettings":
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("HORIZON_KAFKA_SSL_CERTFILE and HORIZON_KAFKA_SSL_KEYFILE are set together")
        if self.ssl_certfile is not None and not self.secure:
            raise ValueError("TLS is for the secure broker: HORIZON_KAFKA_SECURE=false takes no certificate")
        return self

    @property
    def listener_protocol(self) -> str:
        """How clients talk to the client port: PLAINTEXT, SASL_PLAINTEXT, or SASL_SSL with a certificate."""
        if not self.secure:
            return "PLAINTEXT"
        return "SASL_SSL" if self.ssl_certfile is not None else "SASL_PLAINTEXT"

    @property
    def credentials_file(self) -> Path:
        """Each principal's password (mode 600), made when the storage is first formatted."""
        return self.home / "credentials.json"

    @property
    def lib_dir(self) -> Path:
        return self.cache_dir / f"kafka-{KAFKA_VERSION}" / "lib"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"


@dataclass(frozen=True)
class Outcome:
    """What a fetch/start/stop did: ok or not, and why."""

    ok: bool
    message: str
    pid: int | None = None


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A free port p whose neighbour p+1 is free too (the broker's controller listens there)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind((host, 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind((host, port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free pair of ports")
