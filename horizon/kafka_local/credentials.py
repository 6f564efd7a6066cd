"""The secure local broker's principals, their passwords, and the client settings of each.

The passwords are made once, when the broker's storage is first formatted (their SCRAM
credentials go into the metadata log then: `kafka-storage format --add-scram`), and kept in the
state folder's `credentials.json` (mode 600). `horizon up` reads them to give each service its
own principal; `horizon kafka start`, topic creation and `horizon dlq` use `admin`.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from contracts.topics import SERVICES
from horizon.kafka_local.settings import KafkaLocalSettings
from services.common.kafka_settings import KafkaSettings

ADMIN = "admin"
PRINCIPALS = (ADMIN, *SERVICES)
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


def read_credentials(settings: KafkaLocalSettings) -> dict[str, str] | None:
    """Each principal's password, or None when the broker has none (never formatted secure)."""
    try:
        return json.loads(settings.credentials_file.read_text())
    except FileNotFoundError:
        return None


def ensure_credentials(settings: KafkaLocalSettings) -> dict[str, str]:
    """The principals' passwords, made now (and written with mode 600) if the broker has none."""
    found = read_credentials(settings)
    if found is not None:
        return found
    made = {principal: secrets.token_urlsafe(24) for principal in PRINCIPALS}
    _write_private(settings.credentials_file, json.dumps(made, indent=2) + "\n")
    return made


def scram_arguments(credentials: dict[str, str]) -> list[str]:
    """`kafka-storage format` arguments that store every principal's SCRAM credentials."""
    out = []
    for principal, password in credentials.items():
        for mechanism in MECHANISMS:
            out += ["--add-scram", f"{mechanism}=[name={principal},password={password}]"]
    return out


def principal_settings(settings: KafkaLocalSettings, principal: str = ADMIN) -> KafkaSettings:
    """Client settings that sign in to this broker as `principal` (PLAINTEXT when not secure)."""
    if not settings.secure:
        return KafkaSettings(bootstrap_servers=settings.bootstrap, security_protocol="PLAINTEXT")
    credentials = read_credentials(settings)
    if credentials is None or principal not in credentials:
        raise FileNotFoundError(f"no password for {principal!r} in {settings.credentials_file}")
    return KafkaSettings(bootstrap_servers=settings.bootstrap, security_protocol=settings.listener_protocol,
                         sasl_mechanism="SCRAM-SHA-512", username=principal,
                         password=SecretStr(credentials[principal]), ssl_cafile=truststore_of(settings))


def principal_environment(settings: KafkaLocalSettings, principal: str) -> dict[str, str]:
    """The HORIZON_KAFKA_* variables a process needs to sign in as `principal`."""
    kafka = principal_settings(settings, principal)
    env = {"HORIZON_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "HORIZON_KAFKA_SECURITY_PROTOCOL": kafka.security_protocol}
    if kafka.sasl:
        env |= {"HORIZON_KAFKA_SASL_MECHANISM": kafka.sasl_mechanism, "HORIZON_KAFKA_USERNAME": kafka.username,
                "HORIZON_KAFKA_PASSWORD": kafka.password.get_secret_value()}
    if kafka.ssl_cafile is not None:
        env["HORIZON_KAFKA_SSL_CAFILE"] = str(kafka.ssl_cafile)
    return env


def truststore_of(settings: KafkaLocalSettings) -> Path | None:
    """The CA certificates a client checks the broker's certificate against: the CA file given,
    else (a self-signed certificate) the broker's own certificate."""
    if settings.ssl_certfile is None:
        return None
    return (settings.ssl_cafile or settings.ssl_certfile).resolve()


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)
