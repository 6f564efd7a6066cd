"""The preview API refuses what an attacker on loopback sent it: calls without subscriptions' key
(or with a wrong one, which also keeps GET /profiles/{id} from telling who is a subscriber),
non-JSON bodies, profiles too large to preview quickly (422) and bodies past the limit (413,
before they are read whole); /health and /ready answer while the index is busy; a preview never
puts a profile in the index; no OpenAPI pages in production."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import SecretStr

from services.classify.api import create_api
from services.classify.app import create_app
from services.classify.settings import ClassifySettings
from services.common.kafka import KafkaSettings
from services.common.service_auth import InsecureKey

from .conftest import item_event, profile_event

KEY = SecretStr("classify-security-test-key-0123456789")
SETTINGS = ClassifySettings(subscriptions_key=KEY, max_request_bytes=64 * 1024)
PROFILE = {"name": "Dr A", "email": "a@example.org", "interests": ["stroke prevention in atrial fibrillation"]}


def client(api, key: str | None = KEY.get_secret_value()) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://classify", headers=headers)


@pytest.mark.parametrize("key", [None, "wrong-key-of-the-right-length-000", KEY.get_secret_value() + "x"])
async def test_preview_and_profile_state_refuse_a_call_without_the_key(classifier, key):
    classifier.apply_profiles([profile_event("known-subscriber", interests=["sepsis"])])
    async with client(create_api(classifier, SETTINGS), key) as http:
        preview = await http.post("/preview", json={"profile": PROFILE})
        known = await http.get("/profiles/known-subscriber")
        unknown = await http.get("/profiles/nobody")
    assert preview.status_code == known.status_code == unknown.status_code == 401
    assert known.text == unknown.text  # nothing tells a subscriber from no one


async def test_with_the_key_the_preview_works_and_puts_no_profile_in_the_index(classifier):
    classifier.classify([item_event("doi:10.1/af", "Apixaban for stroke prevention in atrial fibrillation")])
    async with client(create_api(classifier, SETTINGS)) as http:
        preview = await http.post("/preview", json={"profile": PROFILE, "days": 7})
        state = await http.get("/profiles/preview")
    assert preview.status_code == 200, preview.text
    assert state.status_code == 404  # classify makes profiles from the profiles topic only
    assert "preview" not in classifier.table.subscribers


@pytest.mark.parametrize(("field", "value", "says"), [
    ("interests", ["an interest"] * 51, "profile.interests has 51 entries; at most 50"),
    ("interests", ["x" * 1001], "profile.interests has an entry of 1001 characters"),
    ("example_texts", ["y" * 8001], "profile.example_texts has an entry of 8001 characters"),
    ("liked", [f"item-{n}" for n in range(101)], "profile.liked has 101 entries"),
    ("name", "n" * 1001, "profile.name is longer than 1000 characters"),
])
async def test_a_profile_too_large_to_preview_is_refused_with_what_is_too_large(classifier, field, value, says):
    async with client(create_api(classifier, SETTINGS)) as http:
        response = await http.post("/preview", json={"profile": {**PROFILE, field: value}})
    assert response.status_code == 422
    assert says in response.text


async def test_a_body_past_the_limit_is_refused_before_it_is_read_whole(classifier):
    sent = {"bytes": 0}
    chunk = b" " * 16 * 1024

    async def endless():  # 700 KB and more, chunked: no Content-Length to refuse it by
        yield b'{"profile": {"name": "x", "email": "x@example.org", "interests": ["'
        for _ in range(4096):
            sent["bytes"] += len(chunk)
            yield chunk

    async with client(create_api(classifier, SETTINGS)) as http:
        response = await http.post("/preview", content=endless(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert sent["bytes"] <= 64 * 1024 + len(chunk)


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_the_preview_takes_only_json(classifier, media):
    headers = {"content-type": media} if media else {}
    async with client(create_api(classifier, SETTINGS)) as http:
        response = await http.post("/preview", content=b'{"profile": {"name": "x", "email": "x@example.org"}}',
                                   headers=headers)
    assert response.status_code == 415


async def test_health_and_ready_answer_while_a_preview_or_batch_holds_the_index(classifier):
    lock = asyncio.Lock()
    closed = KafkaSettings(bootstrap_servers="127.0.0.1:9")  # nothing listens: kafka answers "not ready" at once
    api = create_api(classifier, SETTINGS, lock, closed)
    async with lock, client(api, None) as http:  # the index is busy for as long as this block lasts
        health = await asyncio.wait_for(http.get("/health"), timeout=5)
        ready = await asyncio.wait_for(http.get("/ready"), timeout=5)
    assert health.status_code == 200
    assert ready.json()["checks"]["qdrant"] == "ok"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_no_openapi_pages_in_production(classifier, path):
    async with client(create_api(classifier, SETTINGS)) as http:
        assert (await http.get(path)).status_code == 404
    async with client(create_api(classifier, ClassifySettings(dev=True)), None) as http:
        assert (await http.get(path)).status_code == 200


@pytest.mark.parametrize("key", [None, "dev-insecure-service-key", "short"])
def test_the_api_and_the_app_refuse_to_start_with_a_default_or_short_key(key):
    settings = ClassifySettings() if key is None else ClassifySettings(subscriptions_key=SecretStr(key))
    with pytest.raises(InsecureKey, match="HORIZON_CLASSIFY_SUBSCRIPTIONS_KEY"):
        create_api(None, settings)
    with pytest.raises(InsecureKey):
        create_app(settings)
    create_app(settings.model_copy(update={"api_port": 0}))  # no API served: no key needed
