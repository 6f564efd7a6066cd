"""Transports that carry a finished message: an outbox folder (default) or SMTP (aiosmtplib).

A transport's `send` returns a `SendResult`; an expected failure (server down, address refused)
is a value, never an exception. SMTP retries transient failures with exponential back-off;
a 5xx answer is permanent and is not retried.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A finished message: the RFC 5322 bytes and what names it."""

    name: str  # a file-safe name unique to the delivery (subscriber, kind, period)
    message_id: str
    sender: str
    recipient: str
    raw: bytes
    html: str


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""
    permanent: bool = False


class Transport(Protocol):
    def send(self, message: Outgoing) -> SendResult: ...


def safe_name(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", p).strip("-") for p in parts)[:180]


class OutboxTransport:
    """Writes `<name>.eml` (the exact message) and `<name>.html`; a resend overwrites the same files."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, message: Outgoing) -> SendResult:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.folder / f"{message.name}.html", message.html.encode("utf-8"))
            _write_atomic(self.folder / f"{message.name}.eml", message.raw)
        except OSError as exc:
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        return SendResult(ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None
    timeout_s: float = 30.0
    cert_bundle: str | None = None  # a CA file to trust besides the system's (a private relay)


def parse_smtp_url(url: str, timeout_s: float = 30.0) -> SmtpConfig:
    """smtp://user:pass@host:port?starttls=1 (smtps:// for implicit TLS; &cafile=PATH) as an SmtpConfig."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP URL must look like smtp://user:pass@host:port?starttls=1")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    flag = query.get("starttls")
    start_tls = None if flag is None else flag in ("1", "true", "yes", "on")
    implicit = parts.scheme == "smtps"
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587 if start_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit,
        start_tls=False if implicit else start_tls,
        timeout_s=float(query.get("timeout", timeout_s)),
        cert_bundle=parse_qs(parts.query).get("cafile", [None])[-1],
    )


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    code = getattr(exc, "code", None)
    return isinstance(code, int) and 500 <= code < 600


class SmtpTransport:
    """Sends over SMTP with STARTTLS/TLS and login as configured, retrying transient failures."""

    def __init__(self, config: SmtpConfig, *, retries: int = 3, backoff_s: float = 1.0) -> None:
        self.config = config
        self.retries = retries
        self.backoff_s = backoff_s

    def send(self, message: Outgoing) -> SendResult:
        return run_coroutine(self.send_async(message))

    async def send_async(self, message: Outgoing) -> SendResult:
        c = self.config
        error = ""
        for attempt in range(1, self.retries + 1):
            try:
                await aiosmtplib.send(
                    message.raw, sender=message.sender, recipients=[message.recipient],
                    hostname=c.host, port=c.port, username=c.username, password=c.password,
                    use_tls=c.use_tls, start_tls=c.start_tls, timeout=c.timeout_s, cert_bundle=c.cert_bundle,
                )
                return SendResult(ok=True)
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                if _is_permanent(exc):
                    return SendResult(ok=False, error=error, permanent=True)
                log.warning("smtp send failed", extra={"message_id": message.message_id, "attempt": attempt, "error": error})
                if attempt < self.retries:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        return SendResult(ok=False, error=error)


def run_coroutine(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, also when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name="notify-smtp")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]
