"""notify's Prometheus metrics: events applied, deliveries and their outcomes, SMTP time.

`possible_duplicate_sends` counts intents resumed after their sender stopped between handing the
message to the transport and recording the outcome (notifier.py explains why those are resent):
the SMTP server may have accepted the first copy, so each is a digest a subscriber may get twice.
The scheduler process serves these on its metrics port; the links app serves its own /metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Counter, Histogram

from services.common.metrics import REGISTRY, consumer_lag, dead_letters, http_latency

EVENTS_APPLIED = Counter("horizon_notify_events_applied_total",
                         "Consumed events applied to the store (repeats of an event id are not)", ["event"],
                         registry=REGISTRY)
DELIVERIES = Counter("horizon_notify_deliveries_total",
                     "Delivery attempts by kind (digest, alert, briefing) and outcome: sent; retrying (failed, "
                     "tried again later); failed (given up)", ["kind", "outcome"], registry=REGISTRY)
POSSIBLE_DUPLICATES = Counter("horizon_notify_possible_duplicate_sends_total",
                              "Intents resumed whose first send may already have been accepted (sent again)",
                              ["kind"], registry=REGISTRY)
SMTP_SECONDS = Histogram("horizon_notify_smtp_send_duration_seconds",
                         "Duration of one SMTP send attempt (connecting when needed), by outcome", ["outcome"],
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0), registry=REGISTRY)
# the shared ones, made now so that /metrics lists them from the start
LAG, DEAD_LETTERS, HTTP = consumer_lag("notify"), dead_letters("notify"), http_latency("notify")


def events_applied(events: Sequence[object], applied: int) -> None:
    """Count a batch's new events under its event type (a consumer's batch holds one type)."""
    kinds = {type(e).__name__ for e in events}
    EVENTS_APPLIED.labels(event=kinds.pop() if len(kinds) == 1 else "mixed").inc(applied)
