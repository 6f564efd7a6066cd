"""ingest's Prometheus metrics: what polling fetched, published and skipped, and failing feeds.

Counted by poller.py as each source is polled; served at /metrics on the sources API.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from services.common.metrics import REGISTRY, http_latency
from services.ingest.tables import Source

ITEMS_FETCHED = Counter("horizon_ingest_items_fetched_total",
                        "Items parsed and normalised from fetched feeds", registry=REGISTRY)
ITEMS_PUBLISHED = Counter("horizon_ingest_items_published_total",
                          "ItemDiscovered events published (new items and revisions)", registry=REGISTRY)
ITEMS_DUPLICATE = Counter("horizon_ingest_items_duplicate_total",
                          "Fetched items skipped as already published (same work, unchanged)", registry=REGISTRY)
FEED_FAILURES = Counter("horizon_ingest_feed_failures_total",
                        "Polls of a source that failed, by error kind", ["kind"], registry=REGISTRY)
FAILING_FEEDS = Gauge("horizon_ingest_failing_feeds",
                      "Enabled sources whose last poll failed", registry=REGISTRY)
FETCH_SECONDS = Histogram("horizon_ingest_fetch_duration_seconds", "Duration of one feed fetch (HTTP or file)",
                          buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0), registry=REGISTRY)
HTTP = http_latency("ingest")


def observe_sources(sources: Iterable[Source]) -> None:
    """Set the failing-feeds gauge from the sources as stored."""
    FAILING_FEEDS.set(sum(1 for s in sources if s.enabled and s.consecutive_failures > 0))
