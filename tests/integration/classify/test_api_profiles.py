"""classify's HTTP API: a subscriber's profile state in the index, and health."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.classify.api import create_api
from services.classify.settings import ClassifySettings

from .conftest import profile_event, tombstone


def test_profile_state_follows_the_profile_events(classifier):
    key = SecretStr("profiles-test-key-0123456789")
    client = TestClient(create_api(classifier, ClassifySettings(subscriptions_key=key)),
                        headers={"Authorization": f"Bearer {key.get_secret_value()}"})
    assert client.get("/profiles/sub-api").status_code == 404

    classifier.apply_profiles([profile_event("sub-api", version=3, interests=["sepsis in emergency care"])])
    state = client.get("/profiles/sub-api").json()
    assert state == {"subscriber_id": "sub-api", "version": 3, "deleted": False, "active": True}
    assert client.get("/health").json()["profile_points"] > 0

    classifier.apply_profiles([tombstone("sub-api", version=4)])
    assert client.get("/profiles/sub-api").json()["deleted"] is True
