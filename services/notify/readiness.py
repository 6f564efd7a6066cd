"""What notify's readiness checks: the database, Kafka, and the SMTP server when one is set.

The scheduler process checks all three (on its metrics port); the links app only the database,
the one thing it uses.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiosmtplib

from services.common.kafka_settings import KafkaSettings
from services.common.readiness import Check, kafka_check, sql_check
from services.notify.mailer import parse_smtp_url
from services.notify.settings import NotifySettings
from services.notify.store import NotifyStore


def smtp_check(url: str, timeout_s: float) -> Check:
    """Connect and greet (TLS as configured), then quit; no login, no message."""
    config = parse_smtp_url(url, timeout_s=timeout_s)

    async def check() -> None:
        client = aiosmtplib.SMTP(hostname=config.host, port=config.port, use_tls=config.use_tls,
                                 start_tls=config.start_tls, timeout=timeout_s, cert_bundle=config.cert_bundle)
        await client.connect()
        try:
            await client.noop()
        finally:
            client.close()

    return check


def worker_checks(settings: NotifySettings, kafka: KafkaSettings | str, store: NotifyStore) -> Mapping[str, Check]:
    """The scheduler's dependencies: its database, Kafka, and SMTP unless it writes to a folder."""
    checks = {"database": sql_check(store.engine.connect), "kafka": kafka_check(kafka)}
    url = settings.smtp_url.get_secret_value()
    if url:
        checks["smtp"] = smtp_check(url, timeout_s=min(settings.smtp_timeout_s, 3.0))
    return checks
