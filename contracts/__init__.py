"""The contracts between Horizon's services: event models and topic names. No I/O lives here."""

from contracts.dead_letter import DeadLetter, LetterReplayed
from contracts.envelope import Event, derived_event_id, new_event_id, utcnow
from contracts.feedback import DigestSent, FeedbackGiven
from contracts.items import Item, ItemClassified, ItemDiscovered, TopicTag
from contracts.matches import ItemMatched, MatchReason
from contracts.profiles import Profile, ProfileChanged
from contracts.routing import ItemRouted, ItemUnrouted
from contracts.vocab import ContentType, EvidenceType, Frequency, Weekday

__all__ = [
    "ContentType",
    "DeadLetter",
    "DigestSent",
    "Event",
    "EvidenceType",
    "FeedbackGiven",
    "Frequency",
    "Item",
    "ItemClassified",
    "ItemDiscovered",
    "ItemMatched",
    "ItemRouted",
    "ItemUnrouted",
    "LetterReplayed",
    "MatchReason",
    "Profile",
    "ProfileChanged",
    "TopicTag",
    "Weekday",
    "derived_event_id",
    "new_event_id",
    "utcnow",
]
