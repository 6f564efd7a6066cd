"""Fixtures for the subscriptions service: a real database (SQLite, and PostgreSQL where the
`postgres_url` fixture has one), the web app on it, two organisations with a librarian each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.subscriptions import accounts, auth
from services.subscriptions.app import create_api
from services.subscriptions.settings import SubscriptionsSettings
from services.subscriptions.store import create_schema, make_engine, session_factory

SECRET = "test-secret-0123456789abcdef"
PASSWORD = "correct horse battery"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'subscriptions.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def settings(database_url: str) -> SubscriptionsSettings:
    return SubscriptionsSettings(database_url=database_url, secret_key=SecretStr(SECRET),
                                 classify_key=SecretStr("test-classify-key-0123456789"),
                                 ingest_key=SecretStr("test-ingest-key-0123456789"),
                                 public_base_url="http://testserver", dev=False)


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@dataclass
class Tenant:
    org_id: str
    librarian_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    a: Tenant
    b: Tenant
    previews: list[Any] = field(default_factory=list)


def make_tenant(sessions, org_name: str, email: str, role: str = "librarian") -> Tenant:
    with sessions() as session:
        org = accounts.ensure_organisation(session, org_name)
        lib = accounts.create_librarian(session, email, PASSWORD, role, [org.id])
        _, token = auth.issue_token(session, lib, "test")
        return Tenant(org.id, lib.id, email, token)


@pytest.fixture
def world(sessions) -> World:
    return World(
        a=make_tenant(sessions, "Alpha Hospitals NHS Trust", "lib.a@alpha.nhs.uk"),
        b=make_tenant(sessions, "Beta Community NHS Trust", "lib.b@beta.nhs.uk", role="admin"),
    )


async def fake_classify(profile, days):
    """classify's preview, in process: one item per interest statement."""
    return [
        {"item_id": f"doi:10.1000/{i}", "title": f"New evidence on {text}", "url": f"https://example.org/{i}",
         "score": 0.8, "reasons": [{"kind": "interest", "text": text, "score": 0.8}],
         "evidence_type": "systematic_review", "published_at": "2026-11-20T09:00:00+00:00"}
        for i, text in enumerate(profile.interests)
    ]


async def fake_ingest():
    return [{"source_id": "nice", "title": "NICE guidance", "url": "https://www.nice.org.uk/rss",
             "status": "failing", "last_error": "HTTP 503"}]


@pytest.fixture
def client(settings, engine, world) -> TestClient:
    api = create_api(settings, classify=fake_classify, ingest=fake_ingest, engine=engine)
    with TestClient(api) as client:
        yield client


def new_subscriber(client: TestClient, tenant: Tenant, **fields) -> dict:
    body = {"name": "Dr Asha Khan", "email": "asha.khan@example.nhs.uk",
            "interests": ["Anticoagulation in atrial fibrillation"], **fields}
    response = client.post("/api/subscribers", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()
