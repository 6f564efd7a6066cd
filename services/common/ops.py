"""The operator's endpoints of every process: /metrics, /ready, /health, and request latencies.

- `instrument(api, service, checks)`: adds /metrics and /ready to a service's FastAPI app (and
  /health where it has none) and times every request by route template and status.
- `serve_ops(app, service, host, port, checks)`: for a FastStream app that serves no HTTP app of
  its own (subscriptions' relay, notify's scheduler), the same endpoints on a port of their own
  while the app runs, with uvicorn as ingest and classify serve their APIs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from faststream import FastStream
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from services.common.metrics import REGISTRY, http_latency
from services.common.readiness import Check, run_checks

log = logging.getLogger(__name__)

#: Paths not timed: scrapes and health checks would outnumber the requests people make.
UNTIMED = frozenset({"/metrics", "/ready", "/health", "/healthz"})


def ops_router(checks: Mapping[str, Check], health: bool = False) -> APIRouter:
    """GET /metrics (Prometheus text format), GET /ready (200, or 503 naming what failed), and
    GET /health (liveness, no dependency checked) when asked for."""
    router = APIRouter(tags=["operations"], include_in_schema=False)

    @router.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @router.get("/ready")
    async def ready() -> JSONResponse:
        results = await run_checks(checks)
        failed = sorted(name for name, outcome in results.items() if outcome != "ok")
        body = {"status": "not ready" if failed else "ready", "failed": failed, "checks": results}
        return JSONResponse(body, status_code=503 if failed else 200)

    if health:
        @router.get("/health")
        def alive() -> dict[str, str]:
            return {"status": "ok"}

    return router


class RequestTimer:
    """ASGI middleware: each request's duration, labelled by the route template it matched (so
    /r/{token} is one series, not one per token), its method and its status."""

    def __init__(self, app: Any, histogram: Histogram) -> None:
        self.app, self.histogram = app, histogram

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]  # an exception is answered 500 further out

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # the router records the matched route in the scope, which is shared down the stack
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            if route not in UNTIMED:
                self.histogram.labels(route=route, method=scope["method"], status=str(status[0])).observe(
                    time.perf_counter() - started)


def instrument(api: FastAPI, service: str, checks: Mapping[str, Check], health: bool = False) -> FastAPI:
    """Add /metrics and /ready (and /health) to a service's web app and time its requests."""
    api.include_router(ops_router(checks, health))
    api.add_middleware(RequestTimer, histogram=http_latency(service))
    return api


def serve_ops(app: FastStream, service: str, host: str, port: int,
              checks: Callable[[], Mapping[str, Check]]) -> None:
    """Serve /metrics, /ready and /health on host:port while `app` runs (port 0: nothing).
    `checks` is called once the app has started, when what they check is open."""
    if not port:
        return
    state: dict[str, Any] = {}

    async def start() -> None:
        import uvicorn

        ops = FastAPI(title=f"Horizon {service} operations", docs_url=None, redoc_url=None, openapi_url=None,
                      max_body_size=0)  # GETs only: no body is read
        ops.include_router(ops_router(checks(), health=True))
        state["server"] = uvicorn.Server(uvicorn.Config(ops, host=host, port=port, log_level="warning",
                                                        lifespan="off"))
        state["task"] = asyncio.create_task(state["server"].serve(), name=f"{service}-ops")
        for _ in range(100):  # answer from the moment the app counts as started (at most 5 s)
            if state["server"].started or state["task"].done():
                break
            await asyncio.sleep(0.05)
        log.info("operations endpoints served", extra={"service": service, "host": host, "port": port})

    async def stop() -> None:
        if "server" in state:
            state["server"].should_exit = True
            with suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(state.pop("task"), timeout=10)

    app.after_startup(start)
    app.on_shutdown(stop)
