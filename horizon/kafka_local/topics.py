"""The project's topics, created with their partition counts (contracts/topics.py PARTITIONS)."""

from __future__ import annotations

import asyncio

from contracts.topics import PARTITIONS


async def create_topics(bootstrap: str, partitions: dict[str, int] = PARTITIONS) -> dict[str, str]:
    """Create the project's topics with their partition counts; say per topic what happened."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="horizon-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, n, 1) for t, n in partitions.items() if t not in existing]
        if missing:
            await admin.create_topics(missing, timeout_ms=30_000)
        return {t: ("exists" if t in existing else "created") for t in partitions}
    finally:
        await admin.close()


def ensure_topics(bootstrap: str) -> dict[str, str]:
    """`create_topics` for synchronous callers (the CLI, fixtures)."""
    return asyncio.run(create_topics(bootstrap))
