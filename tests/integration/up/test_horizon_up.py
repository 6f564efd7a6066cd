"""`horizon up` on the real broker: every service starts as its own process, answers on its
port, the services reach each other, and Ctrl-C (SIGINT) stops them all cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]


def _free_base(count: int = 4) -> int:
    for base in range(23001, 60000, 97):
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


def _wait_ok(url: str, deadline: float) -> httpx.Response:
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer: {last}")


def test_up_runs_the_four_services_and_stops_them(kafka_bootstrap, tmp_path):
    base = _free_base()
    env = {**os.environ, "HORIZON_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "HF_HUB_OFFLINE": "1"}
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "horizon.cli", "up", "--state", str(tmp_path / "state"), "--port-base", str(base)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 180
        assert _wait_ok(f"http://127.0.0.1:{base}/health", deadline).json()
        assert _wait_ok(f"http://127.0.0.1:{base + 1}/health", deadline).json() == {"status": "ok"}
        assert _wait_ok(f"http://127.0.0.1:{base + 3}/healthz", deadline)
        login_page = _wait_ok(f"http://127.0.0.1:{base + 2}/login", deadline)
        assert "<form" in login_page.text

        # The first admin signs in, and the librarian API reads ingest's sources over HTTP.
        secrets = json.loads((tmp_path / "state" / "secrets.json").read_text())
        token = httpx.post(
            f"http://127.0.0.1:{base + 2}/api/auth/token",
            json={"email": "admin@horizon.localhost", "password": secrets["admin_password"]},
        ).json()["token"]
        sources = httpx.get(
            f"http://127.0.0.1:{base + 2}/api/sources", headers={"Authorization": f"Bearer {token}"}
        )
        assert sources.status_code == 200 and sources.json() == []
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=90)
        log.close()
    output = (tmp_path / "up.log").read_text()
    assert code == 0, output[-3000:]
    assert "horizon up stopped: SIGINT" in output
    for port in range(base, base + 4):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after stop"
