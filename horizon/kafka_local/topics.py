"""The project's topics, created with their partition counts and settings (contracts/topics.py)."""

from __future__ import annotations

import asyncio

from contracts.topics import ALL_CONFIGS, ALL_TOPICS


async def create_topics(bootstrap: str, partitions: dict[str, int] = ALL_TOPICS) -> dict[str, str]:
    """Create the project's topics with their partition counts; say per topic what happened."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="horizon-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, n, 1, topic_configs=ALL_CONFIGS.get(t, {})) for t, n in partitions.items()
                   if t not in existing]
        if missing:
            await admin.create_topics(missing, timeout_ms=30_000)
        kept = [t for t in partitions if t in existing and t in ALL_CONFIGS]
        if kept:  # a topic made before its settings were: given them now (idempotent)
            from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t, ALL_CONFIGS[t]) for t in kept])
        return {t: ("exists" if t in existing else "created") for t in partitions}
    finally:
        await admin.close()


def ensure_topics(bootstrap: str) -> dict[str, str]:
    """`create_topics` for synchronous callers (the CLI, fixtures)."""
    return asyncio.run(create_topics(bootstrap))
