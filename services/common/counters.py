"""Counts of retried and parked messages per service and topic, for metrics to read.

No metrics library here: `COUNTERS` holds plain counts, and `COUNTERS.subscribe(fn)` calls `fn`
with each `DeliveryEvent` as it happens, so an exporter (Prometheus, say) can wire itself in
without the consumers knowing about it. A listener that raises is logged and ignored: metrics
must never stop a consumer.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryEvent:
    """One retry round or one parked message."""

    what: Literal["retry", "park"]
    service: str
    topic: str
    error_class: str
    error_kind: str
    attempt: int
    reason: str = ""


@dataclass
class DeliveryCounters:
    """Retries and parks per (service, topic), and the listeners told of each."""

    retries: Counter[tuple[str, str]] = field(default_factory=Counter)
    parks: Counter[tuple[str, str]] = field(default_factory=Counter)
    listeners: list[Callable[[DeliveryEvent], None]] = field(default_factory=list)

    def subscribe(self, listener: Callable[[DeliveryEvent], None]) -> None:
        self.listeners.append(listener)

    def count(self, event: DeliveryEvent) -> None:
        counts = self.retries if event.what == "retry" else self.parks
        counts[(event.service, event.topic)] += 1
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as exc:  # a broken exporter must not stop a consumer
                log.warning("delivery listener failed", extra={"listener": repr(listener), "error": repr(exc)})


#: The process's counters: every broker made by services.common.kafka.make_broker counts here.
COUNTERS = DeliveryCounters()
