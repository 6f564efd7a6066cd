"""The librarian UI calls ingest's and classify's APIs server-side with its own keys (real HTTP,
real ingest API), refuses to start with default keys in production, shows no OpenAPI pages in
production, and answers an out-of-range page with 422 rather than a 500."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from contracts import Profile
from services.common.service_auth import InsecureKey
from services.ingest.api import create_api as ingest_api
from services.ingest.settings import IngestSettings
from services.ingest.store import SqlStore
from services.subscriptions.app import create_api
from services.subscriptions.ports import HttpClassify, HttpIngest, fetch_preview, fetch_sources
from services.subscriptions.settings import SubscriptionsSettings

from .conftest import SECRET

KEY = SecretStr("subscriptions-to-ingest-key-0123456789")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serving(app):
    """The app on a real port (uvicorn), for as long as the block lasts."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_ui_reads_ingests_sources_with_its_key_and_a_wrong_key_gets_nothing(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'ingest.db'}")
    api = ingest_api(IngestSettings(subscriptions_key=KEY), store)
    async with serving(api) as url:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY.get_secret_value()}"}) as http:
            assert (await http.post(f"{url}/sources", json={"url": "https://journal.example.org/rss"})).status_code == 201
        sources, error = await fetch_sources(HttpIngest(url, KEY))
        assert error is None and [s.url for s in sources] == ["https://journal.example.org/rss"]
        refused, error = await fetch_sources(HttpIngest(url, SecretStr("not-the-key-but-long-enough")))
        assert refused == [] and "HTTPStatusError" in error


async def test_the_ui_sends_its_key_to_classifys_preview():
    seen = {}

    async def preview(request):  # stands in for classify at the HTTP boundary: records what arrives
        from starlette.responses import JSONResponse

        seen["authorization"] = request.headers.get("authorization")
        return JSONResponse({"items": []})

    from starlette.applications import Starlette
    from starlette.routing import Route

    async with serving(Starlette(routes=[Route("/preview", preview, methods=["POST"])])) as url:
        items, error = await fetch_preview(HttpClassify(url, KEY), Profile(name="n", email="n@example.org"), 7)
    assert error is None and items == []
    assert seen["authorization"] == f"Bearer {KEY.get_secret_value()}"


@pytest.mark.parametrize("missing", ["classify_key", "ingest_key"])
def test_the_web_app_refuses_to_start_with_a_default_key_outside_development(tmp_path, missing):
    keys = {"classify_key": SecretStr("c" * 32), "ingest_key": SecretStr("i" * 32)}
    del keys[missing]
    settings = SubscriptionsSettings(database_url=f"sqlite:///{tmp_path / 's.db'}", secret_key=SecretStr(SECRET), **keys)
    with pytest.raises(InsecureKey, match=f"HORIZON_SUBSCRIPTIONS_{missing.upper()}"):
        create_api(settings)
    create_api(settings.model_copy(update={"dev": True}))


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_no_openapi_pages_in_production(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("offset", [10**19, 10**30, 10_000_001, -1])
def test_an_out_of_range_page_is_422_not_500(client, world, offset):
    response = client.get("/api/subscribers", params={"offset": offset}, headers=world.a.headers)
    assert response.status_code == 422, response.text
    assert client.get("/api/subscribers", params={"offset": 10_000_000}, headers=world.a.headers).json() == []
