"""The contracts: example payloads validate, envelopes behave, topics are named once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

import contracts
from contracts import (
    DeadLetter,
    DigestSent,
    FeedbackGiven,
    Item,
    ItemClassified,
    ItemDiscovered,
    ItemMatched,
    ItemRouted,
    ItemUnrouted,
    MatchReason,
    Profile,
    ProfileChanged,
    TopicTag,
    derived_event_id,
)
from contracts import topics

EXAMPLES = Path(contracts.__file__).parent / "examples"
MODELS = {
    "item_discovered.json": ItemDiscovered,
    "item_classified.json": ItemClassified,
    "item_matched.json": ItemMatched,
    "profile_changed.json": ProfileChanged,
    "profile_deleted.json": ProfileChanged,
    "feedback_given.json": FeedbackGiven,
    "digest_sent.json": DigestSent,
    "dead_letter.json": DeadLetter,
    "item_unrouted.json": ItemUnrouted,
    "item_routed.json": ItemRouted,
}


def test_every_example_payload_has_a_model():
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_example_payload_validates_and_round_trips(name):
    raw = json.loads((EXAMPLES / name).read_text())
    event = MODELS[name].model_validate(raw)
    again = MODELS[name].model_validate_json(event.model_dump_json())
    assert again == event


def test_tombstone_carries_no_profile_and_live_event_needs_one():
    raw = json.loads((EXAMPLES / "profile_changed.json").read_text())
    with pytest.raises(ValidationError):
        ProfileChanged.model_validate({**raw, "deleted": True})
    with pytest.raises(ValidationError):
        ProfileChanged.model_validate({**raw, "profile": None})


def test_event_requires_producer_and_gets_fresh_ids():
    raw = json.loads((EXAMPLES / "item_discovered.json").read_text())
    del raw["event_id"], raw["occurred_at"]
    first, second = ItemDiscovered.model_validate(raw), ItemDiscovered.model_validate(raw)
    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None
    del raw["producer"]
    with pytest.raises(ValidationError):
        ItemDiscovered.model_validate(raw)


def test_additive_fields_from_a_newer_producer_are_ignored():
    raw = json.loads((EXAMPLES / "item_matched.json").read_text())
    event = ItemMatched.model_validate({**raw, "a_field_added_later": 1})
    assert event.item_id == raw["item_id"]


def test_derived_event_ids_are_stable_and_distinct():
    assert derived_event_id("e1", "sub-1") == derived_event_id("e1", "sub-1")
    assert derived_event_id("e1", "sub-1") != derived_event_id("e1", "sub-2")
    assert derived_event_id("e1", "sub-1") != derived_event_id("e1sub-1")


def test_derived_event_ids_are_the_uuid5_of_their_parts():
    import random
    import uuid

    from contracts.envelope import _NAMESPACE

    rng = random.Random(0)
    for _ in range(500):
        parts = ["".join(rng.choice("ab-:é/🙂x19") for _ in range(rng.randint(0, 20))) for _ in range(rng.randint(1, 3))]
        assert derived_event_id(*parts) == str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def test_topics_are_versioned_and_dead_letters_named_per_consumer():
    names = list(topics.EVENT_TYPES)
    assert all(name.startswith("horizon.") and name.endswith(".v1") for name in names)
    assert set(topics.PARTITIONS) == set(names)
    assert topics.dead_letter_topic(topics.ITEMS, "classify") == "horizon.items.v1.dlq.classify"


def test_every_event_field_is_described():
    """Field descriptions feed the AsyncAPI documents: the wire format explains itself."""
    undocumented = []
    for model in [*topics.EVENT_TYPES.values(), DeadLetter, Item, Profile, TopicTag, MatchReason]:
        for name, field in model.model_fields.items():
            if not field.description:
                undocumented.append(f"{model.__name__}.{name}")
    assert undocumented == []
