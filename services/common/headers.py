"""Security headers on every response of a web app that browsers open (ASGI middleware).

- Content-Security-Policy: nothing loads but the app's own styles and images, no script at all,
  forms post only to the app, and no other site may frame a page;
- X-Frame-Options DENY for browsers that predate frame-ancestors;
- X-Content-Type-Options nosniff, so a download is never run as a page;
- Referrer-Policy no-referrer: links carry tokens, which must never reach another site;
- Cache-Control no-store under the given path prefixes (pages with personal data or tokens).

A header a route sets itself is left as it is. The pages style themselves with one inline
<style> element (e-mail-like pages carry the library's brand colours), hence 'unsafe-inline'
for styles only: no script runs on them.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders:
    """Adds the headers above to each HTTP response; `skip_csp_prefixes` (e.g. an API's /docs,
    whose page runs the Swagger UI script) get every header but the CSP."""

    def __init__(
        self, app: ASGIApp, csp: str = DEFAULT_CSP, no_store_prefixes: Sequence[str] = (),
        skip_csp_prefixes: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.csp = csp
        self.no_store = tuple(no_store_prefixes)
        self.skip_csp = tuple(skip_csp_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                defaults = {
                    "X-Frame-Options": "DENY",
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer",
                }
                if not path.startswith(self.skip_csp):
                    defaults["Content-Security-Policy"] = self.csp
                if self.no_store and path.startswith(self.no_store):
                    defaults["Cache-Control"] = "no-store"
                for name, value in defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
