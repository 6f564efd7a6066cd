"""Kafka wiring every service uses: broker settings, at-least-once consumers, dead letters.

Delivery is at-least-once: a subscriber acknowledges a message only after its handler has
finished (`AckPolicy.ACK`). When a handler fails, the error decides (services.common.errors,
services.common.retry):

- a dependency down or busy (database locked, broker not ready, Qdrant or SMTP away): the message
  is tried again with back-off until the dependency is back, for up to
  `HORIZON_KAFKA_TRANSIENT_DEADLINE_S`; the consumer keeps its partitions and stays in its group
  meanwhile (services.common.holding). Only past that deadline is it parked, with that reason.
- the message itself is bad (does not decode, does not validate, breaks a rule): parked at once.
- anything else: tried `HORIZON_KAFKA_RETRY_ATTEMPTS` times in all, then parked with its class.

Parked means published, with its error, to `<topic>.dlq.<service>` and then acknowledged: one
poison message never blocks a partition and is never lost (`horizon dlq` lists and replays them).
Parking itself is retried until the broker takes the letter. Every retry round and every park is
logged with its service, topic, partition, offset, attempt and error class, and counted in
services.common.counters.COUNTERS.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from faststream import BaseMiddleware
from faststream.exceptions import FastStreamException, NackMessage
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from contracts import DeadLetter, utcnow
from contracts.topics import dead_letter_topic
from services.common import metrics  # noqa: F401  (wires retries and parks into Prometheus)
from services.common.counters import COUNTERS, DeliveryCounters, DeliveryEvent
from services.common.errors import POISON_ERRORS, ErrorKind, error_kind
from services.common.holding import Holder, Waited
from services.common.kafka_settings import KafkaSettings, kafka_settings  # noqa: F401  (imported from here too)
from services.common.retry import Clock, Failures, RetryPolicy, SystemClock, backoff, next_step

log = logging.getLogger(__name__)

#: Characters of a body that is not UTF-8 kept as readable text (the exact bytes are in base64).
PREVIEW_CHARS = 1000
#: Where make_broker leaves the service's Delivery in the broker's context, for batch_decoder.
DELIVERY = "horizon_delivery"


@dataclass
class Delivery:
    """How one service's consumers retry and park: its name, policy, clock and counters."""

    service: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default_factory=SystemClock)
    counters: DeliveryCounters = field(default_factory=lambda: COUNTERS)


def make_broker(service: str, settings: KafkaSettings | None = None, *, clock: Clock | None = None,
                counters: DeliveryCounters | None = None) -> KafkaBroker:
    """The broker of one service, with retries and dead-lettering on every subscriber."""
    settings = settings or KafkaSettings()
    delivery = Delivery(service, settings.retry_policy(), clock or SystemClock(), counters or COUNTERS)
    broker = KafkaBroker(
        settings.bootstrap_servers,
        client_id=f"horizon-{service}",
        middlewares=[dead_letter_middleware(delivery)],
        security=settings.broker_security(),  # SASL/SCRAM (and TLS) as this service's principal
    )
    broker.context.set_global(DELIVERY, delivery)
    return broker


def dead_letter_middleware(delivery: Delivery) -> Callable[..., BaseMiddleware]:
    """A middleware factory that retries failed handlers and parks what cannot succeed."""

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            records = _records(msg.raw_message)
            failures, holder = Failures(), None
            try:
                while True:
                    try:
                        return await call_next(msg)
                    except FastStreamException:
                        raise
                    except Exception as exc:
                        failure = exc
                    kind = error_kind(failure)
                    failures.record(kind, delivery.clock.monotonic())
                    verdict = next_step(kind, failures, delivery.clock.monotonic(), delivery.policy)
                    holder = holder or _holder(self.context, msg, records, delivery)
                    if verdict.park:
                        await park(delivery, self.context.get("broker"), records, failure, failures.attempts,
                                   verdict.reason, holder, fallback_body=msg.body)
                        return None
                    _log_retry(delivery, records, failure, kind, failures.attempts, verdict.delay_s)
                    _unless_ready(await holder.wait(verdict.delay_s))
            except _LetGo:
                return None  # the partition's new owner reads the message again
            finally:
                if holder is not None:
                    holder.release()

    return DeadLetterMiddleware


class _LetGo(Exception):
    """The records' partition went to another member while they waited."""


def _unless_ready(waited: Waited) -> None:
    """Go on after a wait, or end the message: let go of a lost partition; on shutdown, nack it
    (FastStream seeks back, nothing is committed, the next start reads it again)."""
    if waited is Waited.LOST:
        raise _LetGo
    if waited is Waited.STOPPING:
        raise NackMessage


def _holder(context: Any, msg: Any, records: Sequence[Any], delivery: Delivery) -> Holder:
    subscriber = context.get("handler_")  # FastStream puts the subscriber in the message's context
    return Holder(getattr(msg, "consumer", None), records, delivery.clock,
                  stopping=lambda: subscriber is not None and not getattr(subscriber, "running", True))


def _records(raw: Any) -> Sequence[Any]:
    return raw if isinstance(raw, (list, tuple)) else [raw]


def _where(record: Any) -> dict[str, Any]:
    return {"topic": getattr(record, "topic", None) or "unknown", "partition": getattr(record, "partition", None),
            "offset": getattr(record, "offset", None)}


def _log_retry(delivery: Delivery, records: Sequence[Any], exc: BaseException, kind: ErrorKind, attempt: int,
               delay_s: float) -> None:
    where = _where(records[0])
    log.warning(
        "handler failed; trying again",
        extra={"service": delivery.service, **where, "records": len(records), "attempt": attempt,
               "error_class": type(exc).__name__, "error_kind": str(kind), "error": str(exc)[:500],
               "delay_s": round(delay_s, 3)},
        exc_info=exc if kind is ErrorKind.UNKNOWN else None,  # a bug, probably: keep its traceback
    )
    delivery.counters.count(DeliveryEvent("retry", delivery.service, where["topic"], type(exc).__name__, str(kind),
                                          attempt))


async def park(delivery: Delivery, broker: KafkaBroker, records: Sequence[Any], exc: BaseException, attempts: int,
               reason: str, holder: Holder, fallback_body: Any = b"") -> None:
    """Park each record on its dead-letter topic (see park_record)."""
    for record in records:
        await park_record(delivery, broker, record, exc, attempts, reason, holder, fallback_body)


async def park_record(delivery: Delivery, broker: KafkaBroker, record: Any, exc: BaseException, attempts: int,
                      reason: str, holder: Holder, fallback_body: Any = b"") -> None:
    """Publish one consumed record, with its error, to its dead-letter topic. Tried again, with
    back-off, until the broker takes it: a letter that was not written must not be acknowledged
    (a lost partition or a shutdown during that wait ends the message, as in the middleware)."""
    letter = dead_letter(delivery.service, record, exc, attempts, reason, fallback_body)
    target = dead_letter_topic(letter.topic, delivery.service)
    key = getattr(record, "key", None)
    tries = 0
    while True:
        try:
            await broker.publish(letter, topic=target, key=key)
            break
        except Exception as failure:
            tries += 1
            log.warning("could not park a message; trying again",
                        extra={"service": delivery.service, **_where(record), "attempt": tries,
                               "error_class": type(failure).__name__, "error": str(failure)[:500]})
            _unless_ready(await holder.wait(backoff(tries, delivery.policy)))
    log.error(
        "message parked on its dead-letter topic",
        extra={"service": delivery.service, **_where(record), "dead_letter_topic": target, "attempt": attempts,
               "error_class": type(exc).__name__, "error": letter.error[:500], "reason": reason},
    )
    delivery.counters.count(DeliveryEvent("park", delivery.service, letter.topic, type(exc).__name__,
                                          str(error_kind(exc)), attempts, reason))


def dead_letter(service: str, record: Any, exc: BaseException, attempts: int, reason: str,
                fallback_body: Any = b"") -> DeadLetter:
    """The letter for one record: where it was, why it failed, and its body byte for byte."""
    key = getattr(record, "key", None)
    body = getattr(record, "value", None)
    if body is None:
        body = fallback_body if isinstance(fallback_body, (bytes, str)) else b""
    raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
    try:
        text, exact = raw.decode("utf-8"), None
    except UnicodeDecodeError:  # the exact bytes go in base64; the text is only a preview then
        text, exact = raw.decode("utf-8", "replace")[:PREVIEW_CHARS], base64.b64encode(raw).decode("ascii")
    return DeadLetter(
        **_where(record),
        key=key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
        consumer=service,
        error=f"{type(exc).__name__}: {exc}",
        attempts=attempts,
        failed_at=utcnow(),
        body=text,
        reason=reason,
        body_base64=exact,
        headers={name: value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                 for name, value in (getattr(record, "headers", None) or ())},
    )


def batch_decoder(service: str, model: type[BaseModel], broker_ref: Callable[[], KafkaBroker]):
    """A decoder for batch subscribers that parks each invalid record on its own.

    Without it, one poison record fails the validation of its whole batch, and the valid records
    beside it would go to the dead-letter topic with it. With it, the handler gets only the valid
    records, and each invalid one is parked with its own error, topic, partition and offset.
    """

    async def decode(msg: Any, original_decoder: Any) -> list[Any]:
        broker = broker_ref()
        delivery = broker.context.get(DELIVERY) or Delivery(service)
        records = _records(msg.raw_message)
        valid, holder = [], None
        try:
            for record in records:
                try:
                    valid.append(model.model_validate_json(record.value).model_dump(mode="json"))
                except POISON_ERRORS as exc:
                    holder = holder or _holder(broker.context, msg, records, delivery)
                    reason = next_step(ErrorKind.POISON, Failures(), 0.0, delivery.policy).reason
                    await park_record(delivery, broker, record, exc, 1, reason, holder)
        except _LetGo:
            return []  # the partition went elsewhere while the broker was away
        finally:
            if holder is not None:
                holder.release()
        return valid

    return decode


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a message with this key (murmur2, as the
    Java client and aiokafka compute it)."""
    from aiokafka.partitioner import murmur2

    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions
