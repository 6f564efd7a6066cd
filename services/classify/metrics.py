"""classify's Prometheus metrics: items classified, matches and their fan-out, batch time, the table.

With profile shards every shard classifies every item (counted once per shard) and counts only
its own subscribers' matches.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

from contracts import ItemDiscovered, ProfileChanged
from services.common.metrics import REGISTRY, consumer_lag, dead_letters, http_latency

if TYPE_CHECKING:  # importing these loads numpy and the index adapters: not needed to declare metrics
    from services.classify.classifier import Classifier, ClassifyResult
    from services.classify.table import ProfileTable

ITEMS_CLASSIFIED = Counter("horizon_classify_items_classified_total", "Items embedded, tagged and matched",
                           registry=REGISTRY)
MATCHES = Counter("horizon_classify_matches_total", "ItemMatched events made (one per item and subscriber)",
                  registry=REGISTRY)
FANOUT = Histogram("horizon_classify_item_fanout_subscribers", "Subscribers one classified item was matched to",
                   buckets=(0, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 10_000, 100_000), registry=REGISTRY)
BATCH_SECONDS = Histogram("horizon_classify_batch_duration_seconds", "Duration of classifying one batch of items",
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0), registry=REGISTRY)
PROFILES = Gauge("horizon_classify_profiles", "Subscribers' profiles held in the matching table", registry=REGISTRY)
MODELS = Gauge("horizon_classify_profile_models", "Distinct profile models in the matching table (shared by "
               "subscribers with the same profile)", registry=REGISTRY)
PARTS = Gauge("horizon_classify_profile_parts", "Profile parts (interest statements, examples) in the table",
              registry=REGISTRY)
# the shared ones, made now so that /metrics lists them from the start
LAG, DEAD_LETTERS, HTTP = consumer_lag("classify"), dead_letters("classify"), http_latency("classify")


def classify_batch(classifier: Classifier, events: Sequence[ItemDiscovered]) -> ClassifyResult:
    """`classifier.classify(events)`, timed and counted."""
    started = time.perf_counter()
    result = classifier.classify(events)
    BATCH_SECONDS.observe(time.perf_counter() - started)
    ITEMS_CLASSIFIED.inc(len(result.classified))
    MATCHES.inc(result.match_count())
    for classified in result.classified:
        FANOUT.observe(result.match_count(classified.item.item_id))
    return result


def apply_profiles(classifier: Classifier, events: Sequence[ProfileChanged]) -> list[str]:
    """`classifier.apply_profiles(events)`, then the table's size."""
    changed = classifier.apply_profiles(events)
    observe_table(classifier.table)
    return changed


def observe_table(table: ProfileTable) -> None:
    """Set the table gauges (after profiles change: items leave the table as it is)."""
    PROFILES.set(sum(len(held) for held in table.members.values()))
    MODELS.set(table.model_count())
    PARTS.set(len(table.parts))
