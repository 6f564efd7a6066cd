"""Settings fail fast on a default secret; rows map field by field onto the Profile contract."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from contracts import Frequency
from services.subscriptions import forms, profiles
from services.subscriptions.models import ProfileRow, Subscriber
from services.subscriptions.settings import SubscriptionsSettings


def test_the_default_secret_is_refused_outside_dev_mode(monkeypatch):
    monkeypatch.delenv("HORIZON_SUBSCRIPTIONS_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        SubscriptionsSettings(dev=False)
    assert SubscriptionsSettings(dev=True).secret_key.get_secret_value()
    assert SubscriptionsSettings(secret_key=SecretStr("x" * 32)).dev is False


def test_database_url_is_also_read_from_DATABASE_URL(monkeypatch):
    monkeypatch.delenv("HORIZON_SUBSCRIPTIONS_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/horizon")
    assert SubscriptionsSettings(dev=True).database_url == "postgresql://db/horizon"


def test_rows_map_onto_the_profile_contract():
    sub = Subscriber(id="s1", organisation_id="o1", name="Ann", email="Ann@x.nhs.uk", email_key="ann@x.nhs.uk",
                     role="GP", status="unsubscribed", version=4)
    prof = ProfileRow(subscriber_id="s1", frequency="monthly", interests=["Sepsis"], content_types=["trial"])
    event = profiles.changed(sub, prof, "Trust", board_briefing=True)
    assert (event.version, event.subscriber_id, event.organisation_id) == (4, "s1", "o1")
    p = event.profile
    assert (p.active, p.frequency, p.organisation_name, p.board_briefing, p.example_texts) == (
        False, Frequency.monthly, "Trust", True, [])
    tomb = profiles.tombstone("s1", "o1", 5)
    assert tomb.deleted and tomb.profile is None and tomb.producer == "subscriptions"


def test_apply_fields_reports_real_changes_only():
    sub = Subscriber(id="s1", organisation_id="o1", name="Ann", email="a@x.nhs.uk", email_key="a@x.nhs.uk")
    prof = ProfileRow(subscriber_id="s1", interests=["Sepsis"])
    assert profiles.apply_fields(sub, prof, {"interests": ["Sepsis"], "name": "Ann"}) is False
    assert profiles.apply_fields(sub, prof, {"email": "A.New@x.nhs.uk"}) is True and sub.email_key == "a.new@x.nhs.uk"


def test_form_fields_become_subscriber_fields():
    data = forms.from_form({"name": " Ann ", "interests": "Sepsis\r\n\r\nAKI\n", "topics": "renal, critical-care",
                            "urgent_alerts": "on", "hour": ""})
    assert data == {"name": " Ann ", "interests": ["Sepsis", "AKI"], "topics": ["renal", "critical-care"],
                    "urgent_alerts": True, "board_briefing": False}
