"""Readiness: whether the things a process depends on answer now (database, Kafka, ...).

A check is a coroutine function that returns when its dependency answered and raises when it
did not. `run_checks` runs a process's checks together, each under `READY_TIMEOUT_S`, and says
which failed and why; /ready (services/common/ops.py) turns that into 200 or 503. Liveness
(/health) checks nothing: a process that cannot reach its database is alive, and restarting
it would not bring the database back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from services.common.kafka_settings import KafkaSettings, kafka_settings

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]

#: How long one check may take before its dependency counts as down.
READY_TIMEOUT_S = 3.0


async def run_checks(checks: Mapping[str, Check], timeout_s: float = READY_TIMEOUT_S) -> dict[str, str]:
    """Every check's outcome: "ok", or the error that says why its dependency is not ready."""

    async def one(name: str, check: Check) -> tuple[str, str]:
        try:
            await asyncio.wait_for(check(), timeout=timeout_s)
            return name, "ok"
        except asyncio.TimeoutError:
            return name, f"no answer within {timeout_s:g} s"
        except Exception as exc:  # any failure of a dependency is an answer, not a crash of /ready
            # info, not warning: probes ask every few seconds, and the answer itself says why
            log.info("dependency not ready", extra={"dependency": name, "error": repr(exc)})
            return name, f"{type(exc).__name__}: {exc}"[:300]

    return dict(await asyncio.gather(*(one(name, check) for name, check in checks.items())))


def sql_check(connect: Callable[[], AbstractContextManager[Any]]) -> Check:
    """A trivial query on a new connection or session (`engine.connect`, a session factory)."""
    from sqlalchemy import text  # here, not at the top: classify's image has no SQLAlchemy

    def query() -> None:
        with connect() as connection:
            connection.execute(text("SELECT 1"))

    async def check() -> None:
        await asyncio.to_thread(query)

    return check


def kafka_check(kafka: KafkaSettings | str, timeout_s: float = READY_TIMEOUT_S) -> Check:
    """A metadata request to the bootstrap servers, on a client made for the purpose (signed in
    as the service, on a secure broker: a wrong password is "not ready" too)."""
    options = kafka_settings(kafka).client_options()

    async def check() -> None:
        from aiokafka.client import AIOKafkaClient

        client = AIOKafkaClient(**options, client_id="horizon-ready", request_timeout_ms=int(timeout_s * 1000))
        try:
            await client.bootstrap()
        finally:
            await client.close()

    return check

