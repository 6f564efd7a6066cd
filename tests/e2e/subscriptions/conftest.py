"""A subscriptions web app on loopback for the browser tests, and headless Chromium's settings."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest
from pydantic import SecretStr

from services.subscriptions import accounts
from services.subscriptions.app import create_api
from services.subscriptions.settings import SubscriptionsSettings
from services.subscriptions.store import create_schema, make_engine, session_factory

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct horse battery"
SECRET = "browser-test-secret-0123456789"


def need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but /usr/bin/chromium is missing (install chromium chromium-driver)")
        pytest.skip("no /usr/bin/chromium")


async def classify_preview(profile, days):
    """classify's preview API, served in process."""
    return [{"item_id": "doi:10.1000/af", "title": f"Apixaban trial relevant to: {profile.interests[0]}",
             "url": "https://example.org/af", "score": 0.91,
             "reasons": [{"kind": "interest", "text": profile.interests[0], "score": 0.91}],
             "evidence_type": "trial", "published_at": "2026-11-20T09:00:00+00:00"}]


async def no_sources():
    return []


@pytest.fixture
def server(tmp_path):
    """The web app on a free loopback port (base URL), one organisation with one librarian."""
    url = f"sqlite:///{tmp_path / 'subscriptions.db'}"
    engine = make_engine(url)
    create_schema(engine)
    with session_factory(engine)() as session:
        org = accounts.ensure_organisation(session, "Example Hospitals NHS Trust")
        accounts.create_librarian(session, "librarian@example.nhs.uk", PASSWORD, "librarian", [org.id])
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = SubscriptionsSettings(database_url=url, secret_key=SecretStr(SECRET),
                                     public_base_url=base)
    api = create_api(settings, classify=classify_preview, ingest=no_sources, engine=engine)
    srv = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(400):  # wait for the server to be up (not a timing assertion)
        if srv.started:
            break
        time.sleep(0.05)
    yield base
    srv.should_exit = True
    thread.join(timeout=30)
