"""Form bodies refused past a size limit before they are read, parsed or spooled (ASGI middleware).

Starlette reads a form whole (and spools a multipart file part to disk) before a handler can look
at it, so a 300 MB post to /login would be written out before being refused. This middleware
answers 413 at once when Content-Length is over the limit, and otherwise counts the bytes as the
app reads them and stops at the limit (a chunked body has no length to check first).
Only form posts are limited here (urlencoded and multipart); the import page has its own,
larger limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class _TooLarge(Exception):
    pass


class FormLimit:
    """413 for a form body over `limit_for(path)` bytes, before the app has it all."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if not headers.get(b"content-type", b"").lower().startswith(_FORM_TYPES):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _TooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over:  # the app's answer to a body cut short (400, 500) gives way to the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:  # _TooLarge, or whatever the app made of it
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        log.warning("form body refused: too large", extra={"path": scope["path"], "limit": limit})
        response = PlainTextResponse(f"The form is larger than {limit} bytes.", status_code=413,
                                     headers={"Connection": "close"})
        await response(scope, receive, send)
