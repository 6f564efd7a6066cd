"""The sources API refuses what an attacker on loopback sent it: calls without subscriptions'
key (or with a wrong one), bodies of the wrong media type, bodies past the limit (before they are
read whole), and it shows no OpenAPI pages in production. /health, /ready and /metrics stay open."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from services.common.service_auth import InsecureKey
from services.ingest.api import create_api
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore

KEY = SecretStr("ingest-security-test-key-0123456789")
OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>s</title></head><body>
<outline type="rss" text="Planted" xmlUrl="https://attacker.example/feed.xml"/></body></opml>"""


def client(api, key: str | None = KEY.get_secret_value()) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://ingest", headers=headers)


@pytest.fixture
def store(tmp_path) -> SqlStore:
    return SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")


@pytest.fixture
def api(store):
    return create_api(IngestSettings(subscriptions_key=KEY, max_request_bytes=64 * 1024), store)


CALLS = [
    ("GET", "/sources", {}),
    ("POST", "/sources", {"json": {"url": "https://attacker.example/feed.xml"}}),
    ("GET", "/sources/opml", {}),
    ("POST", "/sources/opml", {"content": OPML, "headers": {"content-type": "text/x-opml"}}),
    ("GET", "/sources/any", {}),
    ("PATCH", "/sources/any", {"json": {"enabled": False}}),
    ("DELETE", "/sources/any", {}),
]


@pytest.mark.parametrize("key", [None, "wrong-key-of-the-right-length-000", "", KEY.get_secret_value()[:-1]])
@pytest.mark.parametrize(("method", "path", "kwargs"), CALLS)
async def test_every_sources_route_refuses_a_call_without_the_key(api, store, key, method, path, kwargs):
    async with client(api, key) as http:
        response = await http.request(method, path, **kwargs)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert store.list_sources() == []


async def test_a_basic_or_other_scheme_carrying_the_key_is_refused(api):
    async with client(api, None) as http:
        response = await http.get("/sources", headers={"Authorization": f"Basic {KEY.get_secret_value()}"})
    assert response.status_code == 401


async def test_with_the_key_the_sources_api_works_and_probes_need_none(api, store):
    async with client(api) as http:
        made = await http.post("/sources", json={"url": "https://journal.example.org/rss"})
        assert made.status_code == 201, made.text
        assert (await http.get("/sources")).json()[0]["url"] == "https://journal.example.org/rss"
    async with client(api, None) as anonymous:
        assert (await anonymous.get("/health")).status_code == 200
        assert (await anonymous.get("/metrics")).status_code == 200
        assert (await anonymous.get("/ready")).status_code in (200, 503)  # Kafka may be away: an answer either way


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                   "", "application/json", "text/html"])
async def test_the_opml_import_takes_only_its_xml_types(api, store, media):
    headers = {"content-type": media} if media else {}
    async with client(api) as http:
        response = await http.post("/sources/opml", content=OPML, headers=headers)
    assert response.status_code == 415, response.text
    assert store.list_sources() == []


@pytest.mark.parametrize("media", ["text/x-opml", "application/xml", "text/xml; charset=utf-8"])
async def test_the_opml_import_reads_each_of_its_xml_types(api, store, media):
    async with client(api) as http:
        response = await http.post("/sources/opml", content=OPML, headers={"content-type": media})
    assert response.status_code == 200, response.text
    assert len(store.list_sources()) == 1


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_json_routes_take_only_json(api, store, media):
    headers = {"content-type": media} if media else {}
    async with client(api) as http:
        added = await http.post("/sources", content=b'{"url": "https://attacker.example/feed.xml"}', headers=headers)
    assert added.status_code == 415, added.text
    assert store.list_sources() == []


async def test_a_body_past_the_limit_is_refused_before_it_is_read_whole(api, store):
    sent = {"bytes": 0}
    chunk = b"<!--" + b"x" * (16 * 1024 - 7) + b"-->"

    async def endless():  # a chunked upload of 64 MiB: no Content-Length to refuse it by
        for _ in range(4096):
            sent["bytes"] += len(chunk)
            yield chunk

    async with client(api) as http:
        response = await http.post("/sources/opml", content=endless(), headers={"content-type": "text/x-opml"})
    assert response.status_code == 413
    assert sent["bytes"] <= 64 * 1024 + len(chunk)  # cut off at the limit, not read to the end
    async with client(api) as http:  # a declared length past the limit: refused before a byte is read
        declared = await http.post("/sources", content=b"{}", headers={"content-type": "application/json",
                                                                           "content-length": str(10 * 1024 * 1024)})
    assert declared.status_code == 413
    assert store.list_sources() == []


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_no_openapi_pages_in_production_and_open_ones_in_development(store, path):
    production = create_api(IngestSettings(subscriptions_key=KEY), store)
    async with client(production) as http:
        assert (await http.get(path)).status_code == 404
    development = create_api(IngestSettings(dev=True), store)
    async with client(development, None) as http:
        assert (await http.get(path)).status_code == 200


@pytest.mark.parametrize("key", [None, "dev-insecure-service-key", "short"])
def test_the_api_and_the_app_refuse_to_start_with_a_default_or_short_key(store, key):
    settings = IngestSettings() if key is None else IngestSettings(subscriptions_key=SecretStr(key))
    with pytest.raises(InsecureKey, match="HORIZON_INGEST_SUBSCRIPTIONS_KEY"):
        create_api(settings, store)
    with pytest.raises(InsecureKey):
        create_app(settings, store=store)
    create_app(settings.model_copy(update={"api_port": 0}), store=store)  # no API served: no key needed
    create_api(settings.model_copy(update={"dev": True}), store)


@pytest.mark.parametrize("interval", [10**20, 30 * 86400 + 1, 59])
async def test_an_out_of_range_poll_interval_is_422_not_500(api, store, interval):
    async with client(api) as http:
        made = await http.post("/sources", json={"url": "https://journal.example.org/rss", "poll_interval_s": interval})
        assert made.status_code == 422, made.text
        sid = (await http.post("/sources", json={"url": "https://journal.example.org/rss"})).json()["id"]
        changed = await http.patch(f"/sources/{sid}", json={"poll_interval_s": interval})
    assert changed.status_code == 422, changed.text
    assert store.get_source(sid).poll_interval_s == 3600
