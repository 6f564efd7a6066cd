"""Transports that carry a finished message: an outbox folder (default) or SMTP (aiosmtplib).

A transport's `send` returns a `SendResult`; an expected failure (server down, address refused)
is a value, never an exception. SMTP keeps a few connections open and sends on them in parallel
(`send_all`); it retries transient failures with exponential back-off; a 5xx answer is
permanent and is not retried. `SmtpProcess` runs those connections in a process of their own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import logging.handlers
import multiprocessing
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from services.notify import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A finished message: the RFC 5322 bytes and what names it."""

    name: str  # a file-safe name unique to the delivery (subscriber, kind, period)
    message_id: str
    sender: str
    recipient: str
    raw: bytes

    @property
    def html(self) -> str:
        """The HTML part, decoded ("" when it has none): the outbox writes it beside the message."""
        part = message_from_bytes(self.raw, policy=policy.default).get_body(("html",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""
    permanent: bool = False


class Transport(Protocol):
    def send(self, message: Outgoing) -> SendResult: ...


class BatchTransport(Transport, Protocol):
    """A transport that sends many messages at once (in parallel) and reports as they finish."""

    def send_all(self, messages: Sequence[Outgoing], wait_s: float = 5.0) -> Iterator[list[tuple[int, SendResult]]]: ...


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
    """Sends over SMTP with STARTTLS/TLS and login as configured, on up to `connections`
    connections kept open between messages and used in parallel, retrying transient failures.

    The connections live on an event loop in a thread of their own, started on first use, so
    that a caller in any thread hands messages over and waits for their outcomes. Each message
    goes to one connection at a time: a message that fails is retried (on a fresh connection)
    by the same worker, and its final outcome is reported once, so it is neither lost nor
    handed to two connections.
    """

    def __init__(self, config: SmtpConfig, *, retries: int = 3, backoff_s: float = 1.0, connections: int = 4,
                 on_attempt: Callable[[str, float], None] | None = None) -> None:
        self.config = config
        self.retries = retries
        self.backoff_s = backoff_s
        self.connections = connections
        self.on_attempt = on_attempt or _observe  # each attempt's outcome ("ok", "error") and seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: list[_Connection] = []
        self._start = threading.Lock()

    def send(self, message: Outgoing) -> SendResult:
        return next(result for group in self.send_all([message]) for _, result in group)

    def send_all(self, messages: Sequence[Outgoing], wait_s: float = 5.0) -> Iterator[list[tuple[int, SendResult]]]:
        """Send every message; yield outcomes as they come in, as (index, result) pairs, and an
        empty list every `wait_s` while none does (so that the caller can renew its leases)."""
        if not messages:
            return
        outcomes: queue.Queue[tuple[int, SendResult]] = queue.Queue()
        work = asyncio.run_coroutine_threadsafe(self._send_all(messages, outcomes), self._running_loop())
        remaining = len(messages)
        while remaining:
            try:
                group = [outcomes.get(timeout=wait_s)]
            except queue.Empty:
                if work.done():
                    work.result()  # a bug in the workers: raise it here rather than wait for ever
                yield []
                continue
            while not outcomes.empty():
                group.append(outcomes.get_nowait())
            remaining -= len(group)
            yield group
        work.result()

    def close(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(timeout=self.config.timeout_s + 5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop, self._thread = None, None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._start:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="notify-smtp", daemon=True)
                self._thread.start()
                self._loop = loop
                self._pool = [_Connection(self.config) for _ in range(self.connections)]
            return self._loop

    async def _send_all(self, messages: Sequence[Outgoing], outcomes: queue.Queue[tuple[int, SendResult]]) -> None:
        todo: asyncio.Queue[tuple[int, Outgoing]] = asyncio.Queue()
        for index, message in enumerate(messages):
            todo.put_nowait((index, message))

        async def work(connection: _Connection) -> None:
            while not todo.empty():
                index, message = todo.get_nowait()
                outcomes.put((index, await self._send_one(connection, message)))

        await asyncio.gather(*(work(c) for c in self._pool[: len(messages)]))

    async def _send_one(self, connection: _Connection, message: Outgoing) -> SendResult:
        error = ""
        for attempt in range(1, self.retries + 1):
            started = time.perf_counter()
            try:
                await connection.send(message)
                self.on_attempt("ok", time.perf_counter() - started)
                return SendResult(ok=True)
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
                self.on_attempt("error", time.perf_counter() - started)
                connection.drop()  # the session's state is unknown after a failure: start afresh
                error = f"{type(exc).__name__}: {exc}"
                if _is_permanent(exc):
                    return SendResult(ok=False, error=error, permanent=True)
                log.warning("smtp send failed", extra={"message_id": message.message_id, "attempt": attempt, "error": error})
                if attempt < self.retries:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        return SendResult(ok=False, error=error)

    async def _close_all(self) -> None:
        for connection in self._pool:
            await connection.quit()


def _observe(outcome: str, seconds: float) -> None:
    metrics.SMTP_SECONDS.labels(outcome=outcome).observe(seconds)


class SmtpProcess:
    """An SmtpTransport in a process of its own, started on first use: the Python work of the
    SMTP sessions (aiosmtplib passes two regular expressions over every message, and runs the
    protocol) then runs beside the composing of the next page instead of taking turns with it
    for the interpreter. A batch goes over a pipe; its outcomes come back as they finish, with
    the attempts' timings and the log records, which this process reports as its own. The child
    writes to the pipe at least every `wait_s`, so it ends at once when its parent has died."""

    def __init__(self, config: SmtpConfig, *, retries: int = 3, backoff_s: float = 1.0, connections: int = 4) -> None:
        self.config, self.connections = config, connections
        self._args = (config, retries, backoff_s, connections)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._lock = threading.Lock()  # one batch at a time on the pipe
        self._batches = itertools.count()

    def send(self, message: Outgoing) -> SendResult:
        return next(result for group in self.send_all([message]) for _, result in group)

    def send_all(self, messages: Sequence[Outgoing], wait_s: float = 5.0) -> Iterator[list[tuple[int, SendResult]]]:
        """As SmtpTransport.send_all."""
        if not messages:
            return
        with self._lock:
            conn, batch = self._started(), next(self._batches)
            conn.send((batch, list(messages), wait_s))
            remaining = len(messages)
            while remaining:
                if not conn.poll(wait_s * 2):
                    if self._process is not None and not self._process.is_alive():
                        raise RuntimeError(f"the SMTP process stopped (exit code {self._process.exitcode})")
                    yield []
                    continue
                tag, group, attempts, records = conn.recv()
                for outcome, seconds in attempts:
                    _observe(outcome, seconds)
                for record in records:
                    if (logger := logging.getLogger(record.name)).isEnabledFor(record.levelno):
                        logger.handle(record)
                if tag != batch:  # the rest of a batch whose reader gave up: not this one's
                    continue
                remaining -= len(group)
                yield group

    def _started(self) -> multiprocessing.connection.Connection:
        if self._process is not None and not self._process.is_alive():  # died: a new one takes over
            log.error("SMTP process stopped; starting another", extra={"exit_code": self._process.exitcode})
            self._conn.close()  # type: ignore[union-attr]
            self._conn = self._process = None
        if self._conn is None:
            ctx = multiprocessing.get_context("spawn")  # not fork: this process runs threads
            self._conn, theirs = ctx.Pipe()
            self._process = ctx.Process(target=_serve_smtp, args=(theirs, *self._args), name="notify-smtp", daemon=True)
            self._process.start()
            theirs.close()
            log.info("SMTP process started", extra={"pid": self._process.pid, "connections": self.connections})
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is None or self._process is None:
                return
            try:
                self._conn.send(None)
            except OSError:
                pass  # it is gone already
            self._process.join(timeout=self.config.timeout_s + 10)
            if self._process.is_alive():
                self._process.terminate()
            self._conn.close()
            self._conn, self._process = None, None


def _serve_smtp(conn: multiprocessing.connection.Connection, config: SmtpConfig, retries: int, backoff_s: float,
                connections: int) -> None:
    """The SMTP process: send each batch that comes in, and report as SmtpProcess.send_all reads."""
    # filled by the transport's thread; QueueHandler formats a record's message so that it pickles
    attempts: queue.SimpleQueue[tuple[str, float]] = queue.SimpleQueue()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    logging.getLogger().addHandler(logging.handlers.QueueHandler(records))
    logging.getLogger().setLevel(logging.INFO)
    transport = SmtpTransport(config, retries=retries, backoff_s=backoff_s, connections=connections,
                              on_attempt=lambda outcome, seconds: attempts.put((outcome, seconds)))
    try:
        while (work := conn.recv()) is not None:
            batch, messages, wait_s = work
            for group in transport.send_all(messages, wait_s=wait_s):
                conn.send((batch, group, _drain(attempts), _drain(records)))
    except (EOFError, OSError):
        os._exit(0)  # the parent has gone: stop sending at once, its successor resumes what is left
    transport.close()


def _drain(items: queue.SimpleQueue) -> list:
    """What another thread put in so far, taken out."""
    return [items.get_nowait() for _ in range(items.qsize())]


class _Connection:
    """One SMTP session, opened (TLS, login) when needed and reused for message after message."""

    #: Servers drop sessions left idle for minutes; one idle this long is reopened before use.
    IDLE_S = 60.0

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.client: aiosmtplib.SMTP | None = None
        self.last_used = 0.0
        self.lock = asyncio.Lock()

    async def send(self, message: Outgoing) -> None:
        async with self.lock:
            if self.client is not None and (not self.client.is_connected or time.monotonic() - self.last_used > self.IDLE_S):
                self.drop()
            if self.client is None:
                c = self.config
                client = aiosmtplib.SMTP(
                    hostname=c.host, port=c.port, username=c.username, password=c.password, use_tls=c.use_tls,
                    start_tls=c.start_tls, timeout=c.timeout_s, cert_bundle=c.cert_bundle,
                )
                await client.connect()
                self.client = client
            await self.client.sendmail(message.sender, [message.recipient], message.raw)
            self.last_used = time.monotonic()

    def drop(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    async def quit(self) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
                pass  # closing anyway
        self.drop()


def send_each(transport: Transport, messages: Sequence[Outgoing]) -> Iterator[list[tuple[int, SendResult]]]:
    """`send_all` for a transport that sends one message at a time: outcome by outcome."""
    for index, message in enumerate(messages):
        yield [(index, transport.send(message))]
