"""Fixtures for notify's integration tests: the unit fixtures, plus a real SMTP server on loopback."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import ssl
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

# the event factories and settings fixtures are shared with the unit tests
_path = Path(__file__).resolve().parents[2] / "unit" / "notify" / "conftest.py"
_spec = importlib.util.spec_from_file_location("notify_shared_fixtures", _path)
_shared = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules[_spec.name] = _shared  # type: ignore[union-attr]
_spec.loader.exec_module(_shared)  # type: ignore[union-attr]
ev, settings, make, recording = _shared.ev, _shared.settings, _shared.make, _shared.recording

USER, PASSWORD = "horizon", "p@ss word"


@dataclass
class Inbox:
    """What the SMTP server received, and the logins it saw."""

    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _authenticator(inbox: Inbox):  # type: ignore[no-untyped-def]
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        if ok:
            inbox.logins.append(USER)
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    """A real SMTP server on 127.0.0.1 requiring login over a plain connection (tests filter its warning)."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator(inbox), auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def tls_smtp_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real SMTP server on 127.0.0.1 that requires STARTTLS then login: (inbox, port, ca_file)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator(inbox), auth_required=True,
        tls_context=context, require_starttls=True,
    )
    controller.start()
    yield inbox, port, cert
    controller.stop()
