"""Prometheus metrics every service shares: dead letters, consumer lag, HTTP latencies.

One registry per process: prometheus_client's default `REGISTRY`, which also carries the
process and garbage-collector metrics. Each service's own metrics live in
services/<name>/metrics.py; the ones here are made per service on first use, named
`horizon_<service>_<what>_<unit>` like the rest, so that a process running two services (a test,
the demo) keeps them apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import cast

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from services.common.counters import COUNTERS, DeliveryEvent

__all__ = ["REGISTRY", "consumer_lag", "count_dead_letter", "dead_letters", "http_latency", "retries"]

#: Buckets of request latencies, in seconds: a click redirect takes milliseconds, a preview seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_made: dict[str, object] = {}
_lock = threading.Lock()


def _once(name: str, make: Callable[[], object]) -> object:
    # Registering a name twice raises: each metric is made once per process, then shared.
    with _lock:
        if name not in _made:
            _made[name] = make()
        return _made[name]


def dead_letters(service: str) -> Counter:
    """Messages this service parked on a dead-letter topic, by the topic they came from."""
    name = f"horizon_{service}_messages_dead_lettered_total"
    return cast(Counter, _once(name, lambda: Counter(
        name, f"Messages {service} parked on a dead-letter topic, by source topic", ["topic"], registry=REGISTRY)))


def count_dead_letter(service: str, topic: str) -> None:
    """One more message of `topic` parked by `service`."""
    dead_letters(service).labels(topic=topic).inc()


def retries(service: str) -> Counter:
    name = f"horizon_{service}_message_retries_total"
    return cast(Counter, _once(name, lambda: Counter(
        name, f"Rounds of {service} retrying a message whose handler failed, by topic and kind of error",
        ["topic", "kind"], registry=REGISTRY)))


def _delivery_event(event: DeliveryEvent) -> None:
    """The consumers' retries and parks (services.common.counters) as Prometheus counters."""
    if event.what == "park":
        count_dead_letter(event.service, event.topic)
    else:
        retries(event.service).labels(topic=event.topic, kind=event.error_kind).inc()


COUNTERS.subscribe(_delivery_event)


def consumer_lag(service: str) -> Gauge:
    """Messages not yet committed by this service's consumer groups, per topic and partition."""
    name = f"horizon_{service}_consumer_lag_messages"
    return cast(Gauge, _once(name, lambda: Gauge(
        name, f"End offset minus the committed offset of {service}'s consumer groups", ["group", "topic", "partition"],
        registry=REGISTRY)))


def http_latency(service: str) -> Histogram:
    """Duration of the HTTP requests a service's web app answered, by route template and status."""
    name = f"horizon_{service}_http_request_duration_seconds"
    return cast(Histogram, _once(name, lambda: Histogram(
        name, f"Duration of requests to {service}'s HTTP app", ["route", "method", "status"], buckets=HTTP_BUCKETS,
        registry=REGISTRY)))
