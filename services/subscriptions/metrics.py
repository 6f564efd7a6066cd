"""subscriptions' Prometheus metrics: the outbox, and the shared lag, dead-letter and HTTP ones.

The relay process (the FastStream app) sets the outbox figures as it relays and serves them on
its metrics port; the web app serves its request latencies on its own /metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from services.common.metrics import REGISTRY, consumer_lag, dead_letters, http_latency

OUTBOX_PENDING = Gauge("horizon_subscriptions_outbox_pending_rows",
                       "ProfileChanged events in the outbox not yet published (as the relay last saw)",
                       registry=REGISTRY)
OUTBOX_PUBLISHED = Counter("horizon_subscriptions_outbox_published_total",
                           "ProfileChanged events the relay published and marked", registry=REGISTRY)
# the shared ones, made now so that /metrics lists them from the start
LAG, DEAD_LETTERS, HTTP = consumer_lag("subscriptions"), dead_letters("subscriptions"), http_latency("subscriptions")
