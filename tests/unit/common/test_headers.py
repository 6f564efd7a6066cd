"""The shared security-headers middleware: set on every response, never overriding a route's own."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from services.common.headers import DEFAULT_CSP, SecurityHeaders


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/page")
    def page() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/own")
    def own() -> PlainTextResponse:
        return PlainTextResponse("framed", headers={"X-Frame-Options": "SAMEORIGIN"})

    app.add_middleware(SecurityHeaders, no_store_prefixes=("/page",), skip_csp_prefixes=("/docs",))
    return app


def test_headers_are_added_and_a_routes_own_value_stands() -> None:
    client = TestClient(_app())
    page = client.get("/page")
    assert page.headers["content-security-policy"] == DEFAULT_CSP
    assert "script-src 'none'" in DEFAULT_CSP and "'unsafe-inline'" not in DEFAULT_CSP.split("script-src", 1)[1].split(";")[0]
    assert (page.headers["x-frame-options"], page.headers["x-content-type-options"], page.headers["referrer-policy"]) == (
        "DENY", "nosniff", "no-referrer")
    assert page.headers["cache-control"] == "no-store"
    own = client.get("/own")
    assert own.headers["x-frame-options"] == "SAMEORIGIN" and "cache-control" not in own.headers
    missing = client.get("/docs-none")
    assert missing.status_code == 404 and missing.headers["x-content-type-options"] == "nosniff"
