"""Topic names and versions: the only place they are spelled."""

from __future__ import annotations

from contracts.feedback import DigestSent, FeedbackGiven
from contracts.items import ItemClassified, ItemDiscovered
from contracts.matches import ItemMatched
from contracts.profiles import ProfileChanged
from contracts.routing import ItemRouted, ItemUnrouted

ITEMS = "horizon.items.v1"  # ItemDiscovered, key item_id
ITEMS_CLASSIFIED = "horizon.items.classified.v1"  # ItemClassified, key item_id
MATCHES = "horizon.matches.v1"  # ItemMatched, key subscriber_id
PROFILES = "horizon.profiles.v1"  # ProfileChanged, key subscriber_id
FEEDBACK = "horizon.feedback.v1"  # FeedbackGiven, key subscriber_id
DIGESTS = "horizon.digests.v1"  # DigestSent, key subscriber_id
UNROUTED = "horizon.items.unrouted.v1"  # ItemUnrouted, key item_id
ROUTED = "horizon.items.routed.v1"  # ItemRouted, key item_id

#: Each topic's event type.
EVENT_TYPES = {
    ITEMS: ItemDiscovered,
    ITEMS_CLASSIFIED: ItemClassified,
    MATCHES: ItemMatched,
    PROFILES: ProfileChanged,
    FEEDBACK: FeedbackGiven,
    DIGESTS: DigestSent,
    UNROUTED: ItemUnrouted,
    ROUTED: ItemRouted,
}

#: Partitions each topic is created with (keys keep per-item / per-subscriber order).
PARTITIONS = {ITEMS: 6, ITEMS_CLASSIFIED: 6, MATCHES: 12, PROFILES: 6, FEEDBACK: 3, DIGESTS: 3, UNROUTED: 1, ROUTED: 1}

#: Topic settings beyond the broker's defaults. Profiles are compacted, never expired: the topic
#: holds every subscriber's latest profile, so a classify shard added later (or rebuilt) reads
#: them all from the beginning.
CONFIGS = {PROFILES: {"cleanup.policy": "compact", "retention.ms": "-1"}}


#: LetterReplayed, key "<dead-letter topic>/<partition>/<offset>": what `horizon dlq replay` has
#: republished. Compacted and kept, so that a replay never sends the same letter twice.
DEAD_LETTERS_REPLAYED = "horizon.deadletters.replayed.v1"


def dead_letter_topic(topic: str, consumer: str) -> str:
    """The dead-letter topic where `consumer` parks messages from `topic` it cannot process."""
    return f"{topic}.dlq.{consumer}"


#: Which service publishes each topic: on a secure broker the only principal that may write it.
PRODUCERS = {ITEMS: "ingest", ITEMS_CLASSIFIED: "classify", MATCHES: "classify", PROFILES: "subscriptions",
             FEEDBACK: "notify", DIGESTS: "notify", UNROUTED: "notify", ROUTED: "subscriptions"}
#: Which services consume which topics: each pair has its dead-letter topic.
CONSUMERS = {ITEMS: ("classify",), ITEMS_CLASSIFIED: ("notify",), MATCHES: ("notify",),
             PROFILES: ("classify", "notify"), FEEDBACK: ("subscriptions",), DIGESTS: ("subscriptions",),
             UNROUTED: ("subscriptions",), ROUTED: ("notify",)}
#: Dead letters wait for a person: kept until replayed or removed, never expired.
KEPT = {"retention.ms": "-1"}
DEAD_LETTER_TOPICS = {dead_letter_topic(t, c): 1 for t, consumers in CONSUMERS.items() for c in consumers}
#: Every topic the project creates up front, with its partitions, and its settings where not the default.
ALL_TOPICS = {**PARTITIONS, **DEAD_LETTER_TOPICS, DEAD_LETTERS_REPLAYED: 1}
ALL_CONFIGS = {**CONFIGS, **{t: KEPT for t in DEAD_LETTER_TOPICS},
               DEAD_LETTERS_REPLAYED: {"cleanup.policy": "compact", "retention.ms": "-1"}}


#: The services, each a principal of its own on a secure broker.
SERVICES = ("ingest", "classify", "subscriptions", "notify")


def parse_dead_letter_topic(name: str) -> tuple[str, str] | None:
    """(original topic, consumer) of a dead-letter topic's name; None for any other topic."""
    topic, sep, consumer = name.rpartition(".dlq.")
    if not sep or not topic or not consumer or "." in consumer:
        return None
    return topic, consumer
