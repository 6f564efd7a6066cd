"""No service's HTTP app serves /docs, /redoc or /openapi.json in production mode; each does in
development mode (the ops apps never do)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.classify.api import create_api as classify_api
from services.classify.settings import ClassifySettings
from services.ingest.api import create_api as ingest_api
from services.ingest.settings import IngestSettings
from services.notify.app import create_links_api
from services.notify.settings import NotifySettings
from services.subscriptions.app import create_api as subscriptions_api
from services.subscriptions.settings import SubscriptionsSettings

KEY = SecretStr("k" * 32)
DOC_PATHS = ["/docs", "/redoc", "/openapi.json"]


def apps(tmp_path: Path, dev: bool) -> dict:
    def db(name: str) -> str:
        return f"sqlite:///{tmp_path / name}.db"

    return {
        "ingest": ingest_api(IngestSettings(dev=dev, subscriptions_key=KEY, database_url=db("i"))),
        "classify": classify_api(settings=ClassifySettings(dev=dev, subscriptions_key=KEY)),
        "subscriptions": subscriptions_api(SubscriptionsSettings(dev=dev, secret_key=KEY, classify_key=KEY,
                                                                 ingest_key=KEY, database_url=db("s"))),
        "notify": create_links_api(NotifySettings(dev=dev, secret_key=KEY, self_service_secret=KEY,
                                                  database_url=db("n"))),
    }


@pytest.mark.parametrize("path", DOC_PATHS)
def test_no_service_shows_its_api_documentation_in_production(tmp_path, path):
    for name, api in apps(tmp_path, dev=False).items():
        # with ingest's and classify's key too: not refused for want of it, simply not there
        assert TestClient(api).get(path, headers={"Authorization": f"Bearer {KEY.get_secret_value()}"}).status_code == 404, name


@pytest.mark.parametrize("path", DOC_PATHS)
def test_every_service_shows_it_in_development_mode(tmp_path, path):
    for name, api in apps(tmp_path, dev=True).items():
        assert TestClient(api).get(path).status_code == 200, name
