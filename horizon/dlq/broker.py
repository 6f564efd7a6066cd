"""Reading the dead-letter topics and the replay log from Kafka, and republishing letters.

Reads never join a consumer group: each topic is read from its beginning up to where it ended
when the read began, so `list`, `show` and `replay --dry-run` change nothing on the broker.

A replay sends each letter's original message to its original topic (the same key, the same
value bytes, the original headers plus `horizon-replayed-from`), waits until the broker has
them all, and only then records each letter in the replay log topic (DEAD_LETTERS_REPLAYED,
compacted): a crash between the two sends a letter again on the next replay, which the
consumers absorb (they are idempotent on the event id); nothing is ever skipped unsent.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from contracts import DeadLetter, LetterReplayed, utcnow
from contracts.topics import DEAD_LETTERS_REPLAYED, parse_dead_letter_topic
from horizon.dlq.letters import Parked, ReplayLog
from services.common.kafka_settings import KafkaSettings, kafka_settings

log = logging.getLogger(__name__)

#: The log topic's settings: kept for ever, one record per letter.
REPLAY_LOG_CONFIG = {"cleanup.policy": "compact", "retention.ms": "-1"}
#: Polls without a record before a read gives up on reaching a partition's end.
_IDLE_POLLS = 30


async def read_parked(kafka: KafkaSettings | str) -> tuple[list[Parked], ReplayLog]:
    """Every letter on every dead-letter topic, and the log of what was replayed (on a secure
    broker, as the admin principal: only it reads every service's dead letters)."""
    kafka = kafka_settings(kafka)
    layout = await _layout(kafka)
    if not layout:
        return [], ReplayLog()
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False, client_id="horizon-dlq")
    try:
        await consumer.start()
        records = await _read_to_end(consumer, [TopicPartition(t, p) for t, ps in layout.items() for p in ps])
    finally:
        await consumer.stop()
    letters, replayed = [], ReplayLog()
    for record in records:
        if record.topic == DEAD_LETTERS_REPLAYED:
            _note_replayed(replayed, record)
        else:
            letters.append(_parked(record))
    return letters, replayed


async def _layout(kafka: KafkaSettings) -> dict[str, list[int]]:
    """The dead-letter topics and the replay log, with their partitions."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka.client_options(), client_id="horizon-dlq")
    try:
        await admin.start()
        names = sorted(t for t in await admin.list_topics()
                       if t == DEAD_LETTERS_REPLAYED or parse_dead_letter_topic(t) is not None)
        for _ in range(_IDLE_POLLS):  # a topic made a moment ago may not have its leaders yet
            described = await admin.describe_topics(names) if names else []
            layout = {d["topic"]: sorted(p["partition"] for p in d.get("partitions", ())) for d in described}
            if all(layout.get(name) for name in names):
                return layout
            await asyncio.sleep(0.2)
        raise TimeoutError(f"no partitions known for {[n for n in names if not layout.get(n)]}")
    finally:
        await admin.close()


async def _read_to_end(consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> list:
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    end = await consumer.end_offsets(tps)
    out, idle = [], 0
    pending = {tp for tp in tps if await consumer.position(tp) < end[tp]}
    while pending:
        got = await consumer.getmany(*pending, timeout_ms=1000)
        idle = 0 if got else idle + 1
        if idle > _IDLE_POLLS:
            raise TimeoutError(f"could not read {sorted(f'{tp.topic}-{tp.partition}' for tp in pending)} to the end")
        for tp, records in got.items():
            out.extend(r for r in records if r.offset < end[tp])
        pending = {tp for tp in pending if await consumer.position(tp) < end[tp]}
    return out


def _parked(record) -> Parked:
    try:
        letter = DeadLetter.model_validate_json(record.value) if record.value is not None else None
    except ValidationError:
        letter = None
    written = datetime.fromtimestamp(record.timestamp / 1000, tz=timezone.utc)
    return Parked(record.topic, record.partition, record.offset, record.key, letter, written)


def _note_replayed(replayed: ReplayLog, record) -> None:
    if record.value is None:
        return
    try:
        done = LetterReplayed.model_validate_json(record.value)
    except ValidationError:
        log.warning("unreadable replay log record", extra={"offset": record.offset})
        return
    replayed.places.add(f"{done.dead_letter_topic}/{done.dead_letter_partition}/{done.dead_letter_offset}")
    if done.original_partition is not None and done.original_offset is not None:
        replayed.originals.add((done.consumer, done.topic, done.original_partition, done.original_offset))


async def replay(kafka: KafkaSettings | str, letters: list[Parked]) -> None:
    """Republish each letter's original message, then record it in the replay log."""
    if not letters:
        return
    kafka = kafka_settings(kafka)
    await _ensure_replay_log(kafka)
    producer = AIOKafkaProducer(**kafka.client_options(), acks="all", enable_idempotence=True,
                                client_id="horizon-dlq-replay")
    try:
        await producer.start()
        sent = [await producer.send(p.letter.topic, p.letter.original_value(), key=p.key, headers=_headers(p))
                for p in letters if p.letter is not None]
        await asyncio.gather(*sent)  # every original is on the broker before any is marked
        now = utcnow()
        marks = [await producer.send(DEAD_LETTERS_REPLAYED, _marker(p, now).model_dump_json().encode("utf-8"),
                                     key=p.place.encode("utf-8")) for p in letters]
        await asyncio.gather(*marks)
    finally:
        await producer.stop()


def _headers(parked: Parked) -> list[tuple[str, bytes]]:
    kept = [(k, v.encode("utf-8")) for k, v in parked.letter.headers.items() if k != "horizon-replayed-from"]
    return [*kept, ("horizon-replayed-from", parked.place.encode("utf-8"))]


def _marker(parked: Parked, now: datetime) -> LetterReplayed:
    letter = parked.letter
    return LetterReplayed(dead_letter_topic=parked.dead_letter_topic, dead_letter_partition=parked.partition,
                          dead_letter_offset=parked.offset, topic=letter.topic, consumer=parked.service,
                          original_partition=letter.partition, original_offset=letter.offset, replayed_at=now)


async def _ensure_replay_log(kafka: KafkaSettings) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(**kafka.client_options(), client_id="horizon-dlq")
    try:
        await admin.start()
        if DEAD_LETTERS_REPLAYED in set(await admin.list_topics()):
            return
        cluster = await admin.describe_cluster()
        replicas = max(1, min(3, len(cluster.get("brokers", ()))))
        try:
            await admin.create_topics([NewTopic(DEAD_LETTERS_REPLAYED, 1, replicas, topic_configs=REPLAY_LOG_CONFIG)],
                                      timeout_ms=30_000)
        except TopicAlreadyExistsError:
            pass  # another replay made it just now
    finally:
        await admin.close()
