"""The project's topics, created with their partition counts and settings (contracts/topics.py)."""

from __future__ import annotations

import asyncio

from contracts.topics import ALL_CONFIGS, ALL_TOPICS
from services.common.kafka_settings import KafkaSettings, kafka_settings

_ALREADY_EXISTS = 36  # another process made the topic a moment ago: what was wanted


async def create_topics(kafka: KafkaSettings | str, partitions: dict[str, int] = ALL_TOPICS) -> dict[str, str]:
    """Create the project's topics with their partition counts; say per topic what happened.
    On a secure broker `kafka` signs in as admin: no service may create or alter topics."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(**kafka_settings(kafka).client_options(), client_id="horizon-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, n, 1, topic_configs=ALL_CONFIGS.get(t, {})) for t, n in partitions.items()
                   if t not in existing]
        if missing:
            response = await admin.create_topics(missing, timeout_ms=30_000)
            # the admin client hands back the broker's per-topic errors rather than raising them
            refused = [(e[0], e[1], e[2] if len(e) > 2 else "") for e in response.topic_errors
                       if e[1] not in (0, _ALREADY_EXISTS)]
            if refused:
                raise RuntimeError("topics not created: " + "; ".join(f"{t} (error {c} {m or ''})".strip()
                                                                      for t, c, m in refused))
        kept = [t for t in partitions if t in existing and t in ALL_CONFIGS]
        if kept:  # a topic made before its settings were: given them now (idempotent)
            from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t, ALL_CONFIGS[t]) for t in kept])
        return {t: ("exists" if t in existing else "created") for t in partitions}
    finally:
        await admin.close()


def ensure_topics(kafka: KafkaSettings | str) -> dict[str, str]:
    """`create_topics` for synchronous callers (the CLI, fixtures)."""
    return asyncio.run(create_topics(kafka))
