"""Why a consumer's handler failed: a dependency that will come back, a message that never can, or neither.

- **transient**: a dependency is down or busy (database locked or unreachable, broker not ready,
  Qdrant unavailable, SMTP down). Waiting helps: the message is retried until the dependency is
  back, within a long deadline.
- **poison**: the message itself is bad (it does not decode, does not validate, or breaks a rule).
  No retry can help: it is parked on its dead-letter topic at once.
- **unknown**: anything else, usually a bug. Retried a few times, then parked with its class.

The lists are explicit on purpose: a new kind of failure is "unknown" until someone decides what
it is, rather than being waited on for hours or parked at the first try. Libraries a service does
not install (qdrant-client in ingest, say) are simply left out.
"""

from __future__ import annotations

import importlib
import smtplib
import sqlite3
from enum import StrEnum
from functools import cache

from pydantic import ValidationError


class RuleViolation(Exception):
    """A message that breaks a rule of the domain (not a fault of any dependency): it can never
    succeed, so it is parked at once. Raise it from a handler with the rule in the message."""


class ErrorKind(StrEnum):
    TRANSIENT = "transient"
    POISON = "poison"
    UNKNOWN = "unknown"


#: The message itself is bad. ValidationError and UnicodeError are ValueErrors; named for the reader.
POISON_ERRORS: tuple[type[BaseException], ...] = (ValidationError, ValueError, TypeError, UnicodeError, RuleViolation)

#: (module, class names) of the dependencies' "down or busy" errors, imported where installed.
_TRANSIENT_NAMES = (
    ("sqlalchemy.exc", ("OperationalError", "DisconnectionError", "TimeoutError")),  # locked, unreachable, pool
    ("psycopg", ("OperationalError",)),
    ("httpx", ("NetworkError", "TimeoutException")),  # connect, read, write, pool
    ("aiokafka.errors", ("KafkaConnectionError", "KafkaTimeoutError")),
    ("qdrant_client.http.exceptions", ("ResponseHandlingException",)),  # its transport failed
    ("aiosmtplib", ("SMTPConnectError", "SMTPServerDisconnected", "SMTPTimeoutError")),
)


@cache
def transient_errors() -> tuple[type[BaseException], ...]:
    """The exception classes that mean "a dependency is down or busy"."""
    found: list[type[BaseException]] = [sqlite3.OperationalError, OSError]  # OSError: ConnectionError, TimeoutError
    for module_name, names in _TRANSIENT_NAMES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found.extend(getattr(module, name) for name in names)
    return tuple(found)


def error_kind(exc: BaseException) -> ErrorKind:
    """Transient, poison or unknown (see the module docstring). An unknown error raised `from` a
    known one (`raise StoreError(...) from OperationalError`) takes the kind of its cause."""
    for _ in range(8):  # a cause chain is short; a cycle must not hang a consumer
        kind = _own_kind(exc)
        if kind is not ErrorKind.UNKNOWN or exc.__cause__ is None:
            return kind
        exc = exc.__cause__
    return ErrorKind.UNKNOWN


def _own_kind(exc: BaseException) -> ErrorKind:
    if isinstance(exc, BaseExceptionGroup):
        kinds = {error_kind(inner) for inner in exc.exceptions}
        return kinds.pop() if len(kinds) == 1 else ErrorKind.UNKNOWN
    permanent = _permanent_reply(exc)
    if permanent is not None:
        return ErrorKind.TRANSIENT if not permanent else ErrorKind.UNKNOWN
    if isinstance(exc, transient_errors()) or _lost_connection(exc) or _retriable_kafka(exc) or _server_side_http(exc):
        return ErrorKind.TRANSIENT
    if isinstance(exc, POISON_ERRORS):
        return ErrorKind.POISON
    return ErrorKind.UNKNOWN


def _permanent_reply(exc: BaseException) -> bool | None:
    """For an SMTP server's refusal: whether it is permanent (5xx, every recipient refused) or
    temporary (4xx, e.g. 421 "service not available"); None for anything else. smtplib's errors
    are OSErrors, so a permanent refusal must be told apart before OSError counts as transient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    code = getattr(exc, "smtp_code", None) if isinstance(exc, smtplib.SMTPResponseException) else None
    if code is None and type(exc).__module__.startswith("aiosmtplib") and hasattr(exc, "code"):
        code = exc.code
    if not isinstance(code, int) or code <= 0:
        return None
    return code >= 500


def _lost_connection(exc: BaseException) -> bool:
    """SQLAlchemy saw the database connection drop mid-statement (any DBAPI error class)."""
    return type(exc).__module__.startswith("sqlalchemy") and getattr(exc, "connection_invalidated", False) is True


def _retriable_kafka(exc: BaseException) -> bool:
    """aiokafka marks the broker errors that clear on their own (leader moving, node not ready)."""
    return type(exc).__module__.startswith("aiokafka") and getattr(exc, "retriable", False) is True


def _server_side_http(exc: BaseException) -> bool:
    """Qdrant's server answered 5xx or 429: overloaded or restarting, not a bad request."""
    status = getattr(exc, "status_code", None)
    return type(exc).__name__ == "UnexpectedResponse" and isinstance(status, int) and (status >= 500 or status == 429)
