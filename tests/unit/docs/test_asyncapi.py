"""The committed AsyncAPI documents match what the FastStream apps generate now."""

from __future__ import annotations

import yaml

from contracts import topics
from horizon import asyncapi


def test_committed_documents_are_current():
    assert asyncapi.drifted() == [], "run `horizon asyncapi` and commit docs/asyncapi/"


def test_documents_cover_every_topic_with_its_payload():
    addresses = set()
    for service in asyncapi.SERVICES:
        document = yaml.safe_load((asyncapi.DOCS / f"{service}.yaml").read_text())
        assert document["asyncapi"].startswith("3.")
        addresses |= {channel["address"] for channel in document["channels"].values()}
        schemas = document["components"]["schemas"]
        assert schemas, f"{service} documents no payloads"
    assert set(topics.EVENT_TYPES) <= addresses
