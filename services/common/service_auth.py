"""Service-to-service authentication of the internal HTTP APIs (ingest's sources, classify's preview).

Each service that calls an API has a key of its own, set on both sides as a `SecretStr` (the
API: `HORIZON_<API>_<CALLER>_KEY`; the caller: `HORIZON_<CALLER>_<API>_KEY`), and sends it as
`Authorization: Bearer <key>`. The API compares the presented key with every caller's key, each
time in constant time and without stopping at the first match, so neither the answer's timing nor
its content says how close a guess came. A request without a valid key is answered 401 before its
body is read. The paths an operator's probes and scrapers use (`/health`, `/ready`, `/metrics`)
stay open, and so do the OpenAPI pages in development mode (they are not served otherwise).

Keys fail fast: outside development mode an API refuses to start while a caller's key is left at
its default or shorter than `MIN_KEY_CHARS`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import SecretStr

log = logging.getLogger(__name__)

#: The key every side uses in development mode (HORIZON_<SERVICE>_DEV=true) when none is set.
DEV_KEY = "dev-insecure-service-key"
MIN_KEY_CHARS = 16
#: Paths answered without a key: liveness, readiness and metrics, for probes and Prometheus.
OPEN_PATHS = frozenset({"/health", "/healthz", "/ready", "/metrics"})
DOC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class InsecureKey(ValueError):
    """A key left at its default (or too short) outside development mode."""


def check_key(variable: str, key: SecretStr | None, dev: bool) -> None:
    """Raise InsecureKey naming `variable` unless the key is usable here."""
    if dev:
        return
    value = key.get_secret_value() if key is not None else ""
    if value == DEV_KEY or len(value) < MIN_KEY_CHARS:
        raise InsecureKey(f"{variable} must be set to a key of at least {MIN_KEY_CHARS} characters "
                          "(or the service's DEV setting to true for development)")


def bearer(key: SecretStr) -> dict[str, str]:
    """The header a caller sends with its key."""
    return {"Authorization": f"Bearer {key.get_secret_value()}"}


def _digest(value: str) -> bytes:
    # digests have one length, so comparing them says nothing about the key's length either
    return hashlib.sha256(value.encode("utf-8")).digest()


class ServiceKeys:
    """The keys an API accepts, by the name of the service that holds each."""

    def __init__(self, keys: Mapping[str, SecretStr]) -> None:
        self._digests = {caller: _digest(key.get_secret_value()) for caller, key in keys.items()}

    def caller(self, authorization: str | None) -> str | None:
        """The service whose key this Authorization header carries; None for no valid key."""
        scheme, _, presented = (authorization or "").partition(" ")
        digest = _digest(presented.strip() if scheme.lower() == "bearer" else "")
        found = None
        for name, expected in self._digests.items():  # every key, every time: no early exit
            if hmac.compare_digest(digest, expected) and found is None:
                found = name
        return found


class ServiceAuth:
    """ASGI middleware: a request outside the open paths needs a caller's key, or gets 401.

    It answers before the application sees the request, so nothing of an unauthenticated
    request's body is read or parsed. The caller's name is left in the scope's state.
    """

    def __init__(self, app: Any, keys: ServiceKeys, service: str, open_paths: Iterable[str] = OPEN_PATHS) -> None:
        self.app, self.keys, self.service, self.open_paths = app, keys, service, frozenset(open_paths)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        caller = self.keys.caller(headers.get("authorization"))
        if caller is None:
            log.warning("request refused: no valid service key",
                        extra={"service": self.service, "path": scope["path"], "method": scope.get("method"),
                               "client": (scope.get("client") or ("", 0))[0]})
            await _refuse(send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


async def _refuse(send: Any) -> None:
    body = json.dumps({"detail": "a valid service key is required (Authorization: Bearer <key>)"}).encode()
    await send({"type": "http.response.start", "status": 401, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b"Bearer"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
