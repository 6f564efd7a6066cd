"""`horizon up` on the real broker: every service starts as its own process, answers on its
port, a librarian's work flows through all four (a subscriber created over the REST API, a
source added over ingest's API, the preview from classify, the digest from notify), and
Ctrl-C (SIGINT) stops them all cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.utils import format_datetime

import httpx
import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(420)]


def _free_base(count: int = 6) -> int:
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


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Up test journal</title><link>https://up.example.org/</link>
<description>feed for the horizon up test</description>
<item><title>Edoxaban versus warfarin for stroke prevention in atrial fibrillation after cardioversion</title>
<link>https://up.example.org/edoxaban</link><guid>up-edoxaban</guid><pubDate>{now}</pubDate>
<description>A randomised trial of oral anticoagulation with edoxaban or warfarin in 1,200 adults with
atrial fibrillation undergoing cardioversion: stroke and major bleeding were similar.</description></item>
</channel></rss>
"""


def _wait(predicate, deadline: float, what: str):
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("broker", ["given", "local-secure"])
def test_up_runs_the_four_services_and_stops_them(request, broker, tmp_path):
    base = _free_base()
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED.format(now=format_datetime(datetime.now(timezone.utc))))
    if broker == "given":  # HORIZON_KAFKA_BOOTSTRAP_SERVERS: every service reaches it the same way
        kafka = {"HORIZON_KAFKA_BOOTSTRAP_SERVERS": request.getfixturevalue("kafka_bootstrap")}
    else:  # the local broker, as `horizon kafka start` left it: each service signs in as its principal
        local = request.getfixturevalue("secure_kafka")
        kafka = {"HORIZON_KAFKA_HOME": str(local.home), "HORIZON_KAFKA_PORT": str(local.port)}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HORIZON_KAFKA_")},
        **kafka,
        "HF_HUB_OFFLINE": "1",
        # Test-only: read the feed from a file, poll often, send digests as soon as items match.
        "HORIZON_INGEST_ALLOW_FILE_URLS": "true",
        "HORIZON_INGEST_POLL_TICK_S": "1",
        "HORIZON_NOTIFY_SEND_IMMEDIATELY": "true",
        "HORIZON_NOTIFY_SCHEDULER_INTERVAL_S": "1",
    }
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "horizon.cli", "up", "--state", str(tmp_path / "state"), "--port-base", str(base)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 180
        assert _wait_ok(f"http://127.0.0.1:{base}/health", deadline).json()
        assert _wait_ok(f"http://127.0.0.1:{base + 1}/health", deadline).json()["status"] == "ok"
        assert _wait_ok(f"http://127.0.0.1:{base + 3}/healthz", deadline)
        login_page = _wait_ok(f"http://127.0.0.1:{base + 2}/login", deadline)
        assert "<form" in login_page.text
        # every process, the relay and the scheduler too, answers /ready and /metrics
        for port in range(base, base + 6):
            assert _wait_ok(f"http://127.0.0.1:{port}/ready", deadline).json()["status"] == "ready"
            assert "horizon_" in _wait_ok(f"http://127.0.0.1:{port}/metrics", deadline).text

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

        # A librarian's day: an organisation, a subscriber with an interest, a source.
        api = httpx.Client(base_url=f"http://127.0.0.1:{base + 2}/api", headers={"Authorization": f"Bearer {token}"})
        org = api.post("/organisations", json={"name": "Up Test NHS Trust"}).json()
        subscriber = api.post("/subscribers", json={
            "name": "Dr Up", "email": "dr.up@example.nhs.uk", "organisation_id": org["id"],
            "interests": ["Anticoagulation for stroke prevention in atrial fibrillation"],
        })
        assert subscriber.status_code == 201, subscriber.text
        subscriber_id = subscriber.json()["id"]
        deadline = time.monotonic() + 180
        # The profile reaches classify through the outbox and Kafka; the item must come after it.
        # ingest's and classify's APIs take subscriptions' keys (made in secrets.json) and nothing else
        classify_key = {"Authorization": f"Bearer {secrets['classify_api_key']}"}
        ingest_key = {"Authorization": f"Bearer {secrets['ingest_api_key']}"}
        assert httpx.get(f"http://127.0.0.1:{base + 1}/profiles/{subscriber_id}").status_code == 401
        assert httpx.get(f"http://127.0.0.1:{base}/sources").status_code == 401
        _wait(lambda: httpx.get(f"http://127.0.0.1:{base + 1}/profiles/{subscriber_id}",
                                headers=classify_key).status_code == 200,
              deadline, "the profile in classify's index")
        added = httpx.post(f"http://127.0.0.1:{base}/sources", json={"url": feed.as_uri(), "title": "Up journal"},
                           headers=ingest_key)
        assert added.status_code == 201, added.text

        preview = _wait(
            lambda: api.post(f"/subscribers/{subscriber_id}/preview").json(), deadline, "a preview from classify"
        )
        assert preview[0]["title"].startswith("Edoxaban versus warfarin")
        outbox = tmp_path / "state" / "outbox"
        digest = _wait(lambda: sorted(outbox.glob("digest_*.eml")), deadline, "the digest from notify")
        message = message_from_bytes(digest[0].read_bytes(), policy=policy.default)
        assert message["To"].addresses[0].addr_spec == "dr.up@example.nhs.uk"
        assert "Edoxaban versus warfarin" in message.get_body(("plain",)).get_content()
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=90)
        log.close()
    output = (tmp_path / "up.log").read_text()
    assert code == 0, output[-3000:]
    assert "horizon up stopped: SIGINT" in output
    for port in range(base, base + 6):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after stop"
