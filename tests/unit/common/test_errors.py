"""Which failures are transient (wait), poison (park now) or unknown (a few tries, then park)."""

from __future__ import annotations

import smtplib
import sqlite3

import aiosmtplib
import httpx
import psycopg
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
)
from pydantic import BaseModel, ValidationError
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from services.common.errors import ErrorKind, RuleViolation, error_kind


class Model(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        Model.model_validate({"n": "x"})
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


def _locked() -> OperationalError:
    return OperationalError("INSERT INTO match ...", {}, sqlite3.OperationalError("database is locked"))


def _qdrant_status(code: int) -> UnexpectedResponse:
    return UnexpectedResponse(status_code=code, reason_phrase="", content=b"", headers=httpx.Headers())


TRANSIENT = [
    _locked(),
    sqlite3.OperationalError("database is locked"),
    DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True),
    psycopg.OperationalError("connection refused"),
    httpx.ConnectError("refused"),
    httpx.ReadTimeout("slow"),
    KafkaConnectionError("no broker"),
    KafkaTimeoutError(),
    NotLeaderForPartitionError(),  # aiokafka marks it retriable
    ResponseHandlingException(httpx.ConnectError("qdrant away")),
    _qdrant_status(503),
    _qdrant_status(429),
    ConnectionRefusedError(),
    TimeoutError(),
    OSError("disk busy"),
    smtplib.SMTPServerDisconnected("gone"),
    smtplib.SMTPResponseException(421, "service not available"),
    aiosmtplib.SMTPConnectError("refused"),
    aiosmtplib.SMTPServerDisconnected("gone"),
    aiosmtplib.SMTPReadTimeoutError("slow"),
]

POISON = [_validation_error(), ValueError("bad"), TypeError("bad"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x"),
          RuleViolation("a match for an unknown item")]

UNKNOWN = [RuntimeError("bug"), KeyError("x"), IntegrityError("INSERT", {}, Exception("unique")),
           MessageSizeTooLargeError(), _qdrant_status(400), smtplib.SMTPResponseException(550, "no such user"),
           smtplib.SMTPRecipientsRefused({}), aiosmtplib.SMTPRecipientRefused(550, "no", "x@example.org")]


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: type(e).__name__)
def test_a_dependency_down_or_busy_is_transient(exc):
    assert error_kind(exc) is ErrorKind.TRANSIENT


@pytest.mark.parametrize("exc", POISON, ids=lambda e: type(e).__name__)
def test_a_bad_message_is_poison(exc):
    assert error_kind(exc) is ErrorKind.POISON


@pytest.mark.parametrize("exc", UNKNOWN, ids=lambda e: type(e).__name__)
def test_anything_else_is_unknown(exc):
    assert error_kind(exc) is ErrorKind.UNKNOWN


def test_an_unknown_error_raised_from_a_known_one_takes_its_kind():
    try:
        try:
            raise _locked()
        except OperationalError as cause:
            raise RuntimeError("store failed") from cause
    except RuntimeError as exc:
        assert error_kind(exc) is ErrorKind.TRANSIENT


def test_a_group_is_of_one_kind_only_when_all_its_errors_are():
    assert error_kind(ExceptionGroup("g", [TimeoutError(), _locked()])) is ErrorKind.TRANSIENT
    assert error_kind(ExceptionGroup("g", [TimeoutError(), ValueError()])) is ErrorKind.UNKNOWN
