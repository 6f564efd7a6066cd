"""poll_source against the local HTTP server and a real SQLite store: health, schedule, nothing lost
(a failed publish or a crash after the claim is published by the outbox relay)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.ingest.fetcher import make_client
from services.ingest.poller import poll_due, poll_source
from services.ingest.relay import relay_outbox
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore
from services.ingest.tables import Source, SourceCreate
from services.ingest.usecases import ingest_feed

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
SETTINGS = IngestSettings(allow_private_addresses=True, total_timeout_s=2.0, backoff_base_s=300,
                          jitter_fraction=0.0)


@pytest.fixture
def store(tmp_path):
    return SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")


class Sink:
    def __init__(self, fail: bool = False) -> None:
        self.events, self.fail = [], fail

    async def __call__(self, event):
        if self.fail:
            raise ConnectionError("broker down")
        self.events.append(event)


async def poll(store, source_id, publish, now=NOW):
    async with make_client(SETTINGS) as client:
        return await poll_source(store.get_source(source_id), client, store, SETTINGS, publish, now, rand=lambda: 0.5)


async def test_success_then_304_publishes_once_and_schedules_the_interval(store, feed_server):
    store.add_source(SourceCreate(id="s", url=feed_server.url("/feed"), poll_interval_s=600))
    sink = Sink()
    first = await poll(store, "s", sink)
    assert first.published == 1 and len(sink.events) == 1
    saved = store.get_source("s")
    assert saved.etag == '"v1"' and saved.last_success_at == NOW and saved.consecutive_failures == 0
    assert saved.next_attempt_at == NOW + timedelta(seconds=600)
    second = await poll(store, "s", sink, NOW + timedelta(seconds=600))
    assert second.not_modified and len(sink.events) == 1


async def test_a_failed_publish_keeps_the_claim_and_the_outbox_relay_publishes_it(store, feed_server):
    store.add_source(SourceCreate(id="s", url=feed_server.url("/feed")))
    with pytest.raises(ConnectionError):
        await poll(store, "s", Sink(fail=True))
    assert store.count_seen() == 1 and store.pending_events() == 1 and store.get_source("s").etag is None
    sink = Sink()
    async with make_client(SETTINGS) as client:
        await poll_due(store, client, SETTINGS, sink, NOW)  # the relay first, then the source again
    assert [e.item.item_id for e in sink.events] == ["url:https://j.example/1"]
    assert store.pending_events() == 0 and store.get_source("s").etag == '"v1"'


async def test_a_crash_between_claim_and_publish_is_published_by_the_relay_after_the_hold(store):
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A claimed article'
            b" never published by its poller</title><link>https://j.example/crash</link></item></channel></rss>")
    claimed = ingest_feed(Source(id="s", url="https://j.example/rss"), body, store, NOW, hold_s=SETTINGS.outbox_hold_s)
    assert len(claimed.events) == 1  # ... and the poller died here
    sink = Sink()
    assert await relay_outbox(store, sink, NOW, SETTINGS.outbox_hold_s) == 0  # still held for its claimer
    later = NOW + timedelta(seconds=SETTINGS.outbox_hold_s)
    assert await relay_outbox(store, sink, later, SETTINGS.outbox_hold_s) == 1
    assert sink.events == claimed.events and store.pending_events() == 0
    assert await relay_outbox(store, sink, later + timedelta(hours=1), SETTINGS.outbox_hold_s) == 0


async def test_errors_back_off_exponentially_and_stay_visible(store, feed_server):
    store.add_source(SourceCreate(id="s", url=feed_server.url("/error")))
    await poll(store, "s", Sink())
    one = store.get_source("s")
    assert one.consecutive_failures == 1 and one.last_error_kind == "http_error" and one.enabled
    assert one.next_attempt_at == NOW + timedelta(seconds=300)
    await poll(store, "s", Sink())
    two = store.get_source("s")
    assert two.consecutive_failures == 2 and two.next_attempt_at == NOW + timedelta(seconds=600)


async def test_429_waits_for_retry_after(store, feed_server):
    store.add_source(SourceCreate(id="s", url=feed_server.url("/limited")))
    await poll(store, "s", Sink())
    saved = store.get_source("s")
    assert saved.last_error_kind == "rate_limited" and saved.next_attempt_at == NOW + timedelta(seconds=120)


async def test_410_disables_and_301_moves_the_stored_url(store, feed_server):
    store.add_source(SourceCreate(id="gone", url=feed_server.url("/gone")))
    store.add_source(SourceCreate(id="moved", url=feed_server.url("/moved")))
    await poll(store, "gone", Sink())
    await poll(store, "moved", Sink())
    assert store.get_source("gone").enabled is False and store.get_source("gone").last_error_kind == "gone"
    assert store.get_source("moved").url == feed_server.url("/feed")


async def test_html_page_is_a_recorded_failure_and_poll_due_takes_only_due_sources(store, feed_server):
    store.add_source(SourceCreate(id="html", url=feed_server.url("/html")))
    store.add_source(SourceCreate(id="ok", url=feed_server.url("/feed")))
    store.add_source(SourceCreate(id="off", url=feed_server.url("/feed"), enabled=False))
    async with make_client(SETTINGS) as client:
        reports = await poll_due(store, client, SETTINGS, Sink(), NOW)
        assert sorted(r.source.id for r in reports) == ["html", "ok"]
        assert await poll_due(store, client, SETTINGS, Sink(), NOW + timedelta(seconds=1)) == []
    html = store.get_source("html")
    assert html.last_error_kind == "html_page" and "Validate User" in html.last_error_message
