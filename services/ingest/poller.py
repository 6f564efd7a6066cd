"""Polling: fetch each due source, ingest it (claiming its works), publish their events, record its health.

The order is what makes ingest lose nothing and publish each work once: each item is first
claimed in the store, its event queued in the outbox in the same transaction (usecases.ingest_feed,
seen.py); the poller then publishes the events it claimed and clears them (relay.publish_claimed).
A failed publish leaves its events to the outbox relay, which runs at the start of every tick;
a crash between claim and publish leaves them held for `outbox_hold_s`, then the relay of any
ingest process publishes them. A publish repeated after a crash carries the same event id (derived
from item, revision and content), so consumers drop the repeat. Concurrent pollers, in one process
or in several sharing the database, claim each work once: a lost claim becomes a sighting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from contracts import utcnow
from services.ingest import metrics
from services.ingest.errors import IngestError
from services.ingest.fetcher import fetch, make_client
from services.ingest.health import record_failure, record_success
from services.ingest.relay import Publish, publish_claimed, relay_outbox
from services.ingest.schedule import Policy
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore
from services.ingest.tables import Source
from services.ingest.usecases import ingest_feed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollReport:
    """What one poll of one source did."""

    source: Source  # the source as stored afterwards
    published: int = 0
    not_modified: bool = False
    error: IngestError | None = None


def policy_of(settings: IngestSettings) -> Policy:
    return Policy(jitter_fraction=settings.jitter_fraction, backoff_base_s=settings.backoff_base_s,
                  backoff_max_s=settings.backoff_max_s, retry_after_max_s=settings.retry_after_max_s)


async def poll_source(source: Source, client: httpx.AsyncClient, store: SqlStore, settings: IngestSettings,
                      publish: Publish, now: datetime | None = None,
                      rand: Callable[[], float] = random.random) -> PollReport:
    """Poll one source once. A failed publish raises (its events stay in the outbox for the relay, and
    the source, its validators unsaved, is fetched in full again when next due)."""
    now = now or utcnow()
    policy = policy_of(settings)
    started = time.perf_counter()
    got = await fetch(client, source.url, settings, now, etag=source.etag, last_modified=source.last_modified)
    metrics.FETCH_SECONDS.observe(time.perf_counter() - started)
    if got.error:
        return _failed(store, source, now, got.error, policy, rand(), got.retry_after_s, got.moved_to)
    if got.not_modified:
        updated = record_success(source, now, policy, rand(), etag=got.etag, last_modified=got.last_modified,
                                 moved_to=got.moved_to, items=None, warning=None)
        store.save_source(updated)
        return PollReport(updated, not_modified=True)
    outcome = ingest_feed(source, got.body, store, now, url=got.url, content_type=got.content_type,
                          near_duplicate_threshold=settings.near_duplicate_threshold, hold_s=settings.outbox_hold_s)
    if outcome.error:
        return _failed(store, source, now, outcome.error, policy, rand(), None, got.moved_to)
    metrics.ITEMS_FETCHED.inc(outcome.items)
    metrics.ITEMS_DUPLICATE.inc(outcome.items - len(outcome.events))
    await publish_claimed(outcome.events, store, publish, now)
    updated = record_success(source, now, policy, rand(), etag=got.etag, last_modified=got.last_modified,
                             moved_to=got.moved_to, items=outcome.items, warning=outcome.warning)
    store.save_source(updated)
    log.info("source polled", extra={"source_id": source.id, "published": len(outcome.events),
                                     "sighted": outcome.sighted, "entries": outcome.entries,
                                     "dropped": len(outcome.dropped)})
    return PollReport(updated, published=len(outcome.events))


def _failed(store: SqlStore, source: Source, now: datetime, error: IngestError, policy: Policy, rand: float,
            retry_after_s: float | None, moved_to: str | None) -> PollReport:
    updated = record_failure(source, now, error, policy, rand, retry_after_s=retry_after_s, moved_to=moved_to)
    store.save_source(updated)
    metrics.FEED_FAILURES.labels(kind=error.kind.value).inc()
    log.warning("source failed", extra={"source_id": source.id, "error_kind": error.kind.value,
                                        "error": error.message, "failures": updated.consecutive_failures,
                                        "next_attempt_at": str(updated.next_attempt_at)})
    return PollReport(updated, error=error)


async def poll_due(store: SqlStore, client: httpx.AsyncClient, settings: IngestSettings, publish: Publish,
                   now: datetime | None = None) -> list[PollReport]:
    """Publish what the outbox holds due, then poll every enabled source that is due, a few at a time."""
    now = now or utcnow()
    try:
        await relay_outbox(store, publish, now, settings.outbox_hold_s)
    except Exception:  # the broker or the database is down: the events stay in the outbox for the next tick
        log.exception("outbox relay failed")
    gate = asyncio.Semaphore(settings.fetch_concurrency)

    async def one(source: Source) -> PollReport | None:
        async with gate:
            try:
                return await poll_source(source, client, store, settings, publish, now)
            except Exception:  # a publish or database fault: log it; the source stays due and is retried
                log.exception("poll failed", extra={"source_id": source.id})
                return None

    reports = await asyncio.gather(*(one(s) for s in store.due_sources(now)))
    metrics.observe_sources(store.list_sources())
    return [r for r in reports if r is not None]


async def run_polling(store: SqlStore, settings: IngestSettings, publish: Publish, stop: asyncio.Event,
                      client: httpx.AsyncClient | None = None) -> None:
    """Poll due sources every `poll_tick_s` until `stop` is set."""
    own = client is None
    client = client or make_client(settings)
    try:
        while not stop.is_set():
            await poll_due(store, client, settings, publish)
            with contextlib.suppress(TimeoutError):  # the tick elapsed: look for due sources again
                await asyncio.wait_for(stop.wait(), timeout=settings.poll_tick_s)
    finally:
        if own:
            await client.aclose()
