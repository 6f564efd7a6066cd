"""Every page of the librarian UI and of self-service carries the security headers."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/login", "/subscribers", "/self/not-a-token", "/api/me", "/no-such-page"])
def test_security_headers_on_every_answer(client, path):
    response = client.get(path, follow_redirects=False)
    csp = response.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    if path.startswith(("/self", "/api")):
        assert response.headers["cache-control"] == "no-store"
