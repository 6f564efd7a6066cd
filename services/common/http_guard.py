"""What every service's HTTP app checks before it trusts a request, and what it shows of itself.

- `api_docs(dev)`: the FastAPI arguments that serve `/docs`, `/redoc` and `/openapi.json` in
  development mode only; in production an API's shape is not advertised to whoever can reach it.
- `BodyTypes`: ASGI middleware answering 415, before anything reads the body, to a POST, PUT
  or PATCH whose media type is not one its path takes: JSON by default (the OPML import takes
  only its XML types). So a plain HTML form on another site, which can send only
  `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`, is refused, and no
  body is parsed as something it did not say it was.
- Request bodies are limited by FastAPI's own `max_body_size` (Starlette's streaming limiter:
  a declared Content-Length over the limit is answered 413 before a byte is read, and a chunked
  body is counted as it arrives and cut off at the limit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

JSON_TYPES = ("application/json",)


def api_docs(dev: bool) -> dict[str, Any]:
    """FastAPI's documentation URLs: its defaults in development mode, none otherwise."""
    return {} if dev else {"docs_url": None, "redoc_url": None, "openapi_url": None}


class BodyTypes:
    """ASGI middleware: a request with a body must say it is of a media type its path takes."""

    METHODS = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, app: Any, default: Iterable[str] = JSON_TYPES,
                 by_path: Mapping[str, Iterable[str]] | None = None) -> None:
        self.app, self.default = app, frozenset(default)
        self.by_path = {path: frozenset(types) for path, types in (by_path or {}).items()}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("method") in self.METHODS:
            allowed = self.by_path.get(scope["path"], self.default)
            if media_type(scope) not in allowed:
                await _unsupported(send, allowed)
                return
        await self.app(scope, receive, send)


def media_type(scope: dict) -> str:
    """The request's media type, lower case, without parameters ("" when none is given)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


async def _unsupported(send: Any, allowed: frozenset[str]) -> None:
    body = json.dumps({"detail": f"the body must be one of: {', '.join(sorted(allowed))}"}).encode()
    await send({"type": "http.response.start", "status": 415, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
