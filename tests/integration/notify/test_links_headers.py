"""The links app answers every request with the security headers a browser needs: a CSP with no
inline script, no framing, no MIME sniffing, no Referer (links carry tokens)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.notify.api import create_links_api
from services.notify.store import NotifyStore


def _assert_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp.replace("script-src 'none'", "")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_every_links_response_carries_the_security_headers(settings) -> None:  # type: ignore[no-untyped-def]
    store = NotifyStore(settings.database_url)
    client = TestClient(create_links_api(settings, store=store))
    for path in ("/r/not-a-token", "/f/not-a-token", "/t/not-a-token", "/healthz", "/no-such-page"):
        _assert_headers(client.get(path, follow_redirects=False))
    store.close()
