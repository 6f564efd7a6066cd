"""Kafka wiring every service uses: broker settings, at-least-once consumers, dead letters.

Delivery is at-least-once: a subscriber acknowledges a message only after its handler has
finished (`AckPolicy.ACK`). A message whose handler fails is retried a few times in process
(transient faults: a database restart, a slow disk) and is then parked on a dead-letter topic
with its error, and acknowledged, so that one poison message never blocks a partition and is
never lost. A message that cannot even be decoded (not JSON, not the contract) goes to the
dead-letter topic at once: retrying cannot help it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from faststream import BaseMiddleware
from faststream.exceptions import FastStreamException
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import DeadLetter, utcnow
from contracts.topics import dead_letter_topic
from services.common.metrics import count_dead_letter

log = logging.getLogger(__name__)

#: Errors that say the message itself is bad: no retry can help.
POISON_ERRORS: tuple[type[BaseException], ...] = (ValidationError, ValueError, TypeError, UnicodeError)


class KafkaSettings(BaseSettings):
    """Where the broker is and how consumers behave."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_KAFKA_")

    bootstrap_servers: str = "127.0.0.1:9092"
    retry_attempts: int = 3
    retry_backoff_s: float = 0.5


def make_broker(service: str, settings: KafkaSettings | None = None) -> KafkaBroker:
    """The broker of one service, with dead-lettering on every subscriber."""
    settings = settings or KafkaSettings()
    broker = KafkaBroker(
        settings.bootstrap_servers,
        client_id=f"horizon-{service}",
        middlewares=[dead_letter_middleware(service, settings)],
    )
    return broker


def dead_letter_middleware(service: str, settings: KafkaSettings) -> Callable[..., BaseMiddleware]:
    """A middleware factory that retries failed handlers and parks poison messages."""

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            attempts = 0
            while True:
                attempts += 1
                try:
                    return await call_next(msg)
                except FastStreamException:
                    raise
                except POISON_ERRORS as exc:
                    return await _park(service, self.context, msg, exc, attempts)
                except Exception as exc:  # a transient fault: retry, then park
                    if attempts >= settings.retry_attempts:
                        return await _park(service, self.context, msg, exc, attempts)
                    log.warning(
                        "handler failed, retrying",
                        extra={"service": service, "attempt": attempts, "error": repr(exc)},
                    )
                    await asyncio.sleep(settings.retry_backoff_s * 2 ** (attempts - 1))

    return DeadLetterMiddleware


async def _park(service: str, context: Any, msg: Any, exc: BaseException, attempts: int) -> None:
    records = msg.raw_message if isinstance(msg.raw_message, (list, tuple)) else [msg.raw_message]
    broker: KafkaBroker = context.get("broker")
    for record in records:
        await park_record(service, broker, record, exc, attempts, fallback_body=msg.body)


async def park_record(
    service: str, broker: KafkaBroker, record: Any, exc: BaseException, attempts: int, fallback_body: Any = b""
) -> None:
    """Publish one consumed record, with its error, to its dead-letter topic."""
    topic = getattr(record, "topic", None) or "unknown"
    key = getattr(record, "key", None)
    body = getattr(record, "value", None)
    if body is None:
        body = fallback_body
    letter = DeadLetter(
        topic=topic,
        partition=getattr(record, "partition", None),
        offset=getattr(record, "offset", None),
        key=key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
        consumer=service,
        error=f"{type(exc).__name__}: {exc}",
        attempts=attempts,
        failed_at=utcnow(),
        body=body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body),
    )
    log.error(
        "message dead-lettered",
        extra={"service": service, "topic": topic, "offset": letter.offset, "error": letter.error},
    )
    await broker.publish(letter, topic=dead_letter_topic(topic, service), key=key)
    count_dead_letter(service, topic)


def batch_decoder(service: str, model: type[BaseModel], broker_ref: Callable[[], KafkaBroker]):
    """A decoder for batch subscribers that parks each invalid record on its own.

    Without it, one poison record fails the validation of its whole batch, and the valid records
    beside it would go to the dead-letter topic with it. With it, the handler gets only the valid
    records, and each invalid one is parked with its own error, topic, partition and offset.
    """

    async def decode(msg: Any, original_decoder: Any) -> list[Any]:
        records = msg.raw_message if isinstance(msg.raw_message, (list, tuple)) else [msg.raw_message]
        valid = []
        for record in records:
            try:
                valid.append(model.model_validate_json(record.value).model_dump(mode="json"))
            except ValidationError as exc:
                await park_record(service, broker_ref(), record, exc, attempts=1)
        return valid

    return decode


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a message with this key (murmur2, as the
    Java client and aiokafka compute it)."""
    from aiokafka.partitioner import murmur2

    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions
