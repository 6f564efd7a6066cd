"""Fetch behaviour against a real HTTP server on 127.0.0.1 (private addresses allowed by the setting)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.ingest.errors import ErrorKind
from services.ingest.fetcher import fetch, make_client
from services.ingest.settings import IngestSettings

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
SETTINGS = IngestSettings(allow_private_addresses=True, total_timeout_s=2.0, read_timeout_s=1.5,
                          max_body_bytes=256 * 1024, max_redirects=4)


@pytest.fixture
def server(feed_server):
    return feed_server


async def get(url: str, settings: IngestSettings = SETTINGS, **kw):
    async with make_client(settings) as client:
        return await fetch(client, url, settings, NOW, **kw)


async def test_conditional_get_returns_304_with_the_validators(server):
    first = await get(server.url("/feed"))
    assert first.error is None and first.status == 200 and b"<rss" in first.body
    assert first.etag == '"v1"' and first.last_modified
    again = await get(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.status == 304 and again.body == b""
    assert server.agents[-1].startswith("Horizon-ingest/")


async def test_gzip_body_is_decoded(server):
    got = await get(server.url("/gzip"))
    assert got.error is None and got.body.startswith(b"<?xml")


async def test_429_and_503_carry_retry_after(server):
    limited = await get(server.url("/limited"))
    assert limited.error.kind is ErrorKind.rate_limited and limited.retry_after_s == 120
    unavailable = await get(server.url("/unavailable"))
    assert unavailable.error.kind is ErrorKind.rate_limited and unavailable.retry_after_s == 3600


async def test_slow_body_hits_the_deadline(server):
    got = await get(server.url("/slow"))
    assert got.error is not None and got.error.kind is ErrorKind.timeout


async def test_oversized_body_is_cut_off_while_streaming_or_by_its_declared_length(server):
    assert (await get(server.url("/big"))).error.kind is ErrorKind.too_large
    assert (await get(server.url("/declared-big"))).error.kind is ErrorKind.too_large


async def test_redirect_loop_and_too_many_redirects(server):
    assert (await get(server.url("/loop-a"))).error.kind is ErrorKind.redirect_loop
    assert (await get(server.url("/chain/0"))).error.kind is ErrorKind.too_many_redirects


async def test_permanent_redirect_reports_the_new_url_and_a_temporary_one_does_not(server):
    moved = await get(server.url("/moved"))
    assert moved.error is None and moved.moved_to == server.url("/feed") and b"<rss" in moved.body
    found = await get(server.url("/found"))
    assert found.error is None and found.moved_to is None


async def test_410_and_500(server):
    assert (await get(server.url("/gone"))).error.kind is ErrorKind.gone
    assert (await get(server.url("/error"))).error.kind is ErrorKind.http_error


async def test_private_address_is_refused_unless_allowed(server):
    requests_before = len(server.agents)
    strict = IngestSettings(allow_private_addresses=False)
    got = await get(server.url("/feed"), strict)
    assert got.error.kind is ErrorKind.forbidden_address and "127.0.0.1" in got.error.message
    assert len(server.agents) == requests_before  # refused before any connection


async def test_file_urls_need_the_setting(tmp_path):
    feed = tmp_path / "f.xml"
    feed.write_bytes(b"<rss/>")
    assert (await get(feed.as_uri(), IngestSettings())).error.kind is ErrorKind.file_urls_disabled
    assert (await get(feed.as_uri(), IngestSettings(allow_file_urls=True))).body == b"<rss/>"


async def test_connection_refused_is_a_named_error():
    got = await get("http://127.0.0.1:9/feed")
    assert got.error.kind is ErrorKind.connect_error


async def test_a_host_that_rebinds_to_a_private_address_after_the_check_is_refused(server, monkeypatch):
    """DNS rebinding: the host answers with a public address for the check and loopback for
    the connection; the guard connects only to what it has itself resolved and checked."""
    from services.ingest import netguard

    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    monkeypatch.setattr(netguard, "resolve", rebinding)
    requests_before = len(server.agents)
    got = await get(server.url("/feed").replace("127.0.0.1", "localhost"), IngestSettings(allow_private_addresses=False))
    assert got.error.kind is ErrorKind.forbidden_address and "127.0.0.1" in got.error.message
    assert len(server.agents) == requests_before  # nothing reached the private address


async def test_the_guarded_client_connects_to_the_address_it_checked(server, monkeypatch):
    """The guard's own resolution is the one used: a name the system cannot resolve is
    reached through the (here, allowed) address the guard resolved it to."""
    from services.ingest import netguard

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(netguard, "resolve", resolve)
    monkeypatch.setattr(netguard, "is_public", lambda address: address == "127.0.0.1")
    url = server.url("/feed").replace("127.0.0.1", "feeds.publisher.invalid")
    got = await get(url, IngestSettings(allow_private_addresses=False))
    assert got.error is None and got.status == 200 and b"<rss" in got.body
