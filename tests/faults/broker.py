"""The suite's own Kafka broker (horizon.kafka_local), on free ports in a temporary folder.

Its own, never the session's shared one: the faults stop it, start it again and freeze it.
`stop` then `start` keeps its data (the same folder, the same ports), as a broker restarted in
production keeps its log; `freeze`/`thaw` pause the broker process (SIGSTOP/SIGCONT), so that a
publish waits for its acknowledgement for as long as a test needs to place a kill.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from horizon import kafka_local




class LocalBroker:
    """One single-node broker of the suite's own, with the project's topics."""

    def __init__(self, home: Path) -> None:
        self.settings = kafka_local.KafkaLocalSettings(home=home, port=kafka_local.free_port_pair(), secure=False)

    @property
    def bootstrap(self) -> str:
        return self.settings.bootstrap

    @property
    def pid(self) -> int | None:
        return kafka_local.status(self.settings).pid

    def start(self) -> None:
        started = kafka_local.start(self.settings)
        if not started.ok:
            raise RuntimeError(f"the suite's Kafka broker did not start: {started.message}")
        with ThreadPoolExecutor(1) as pool:  # ensure_topics runs its own event loop: not on a test's
            pool.submit(kafka_local.ensure_topics, self.bootstrap).result()

    def stop(self) -> None:
        kafka_local.stop(self.settings)

    def running(self) -> bool:
        return kafka_local.status(self.settings).running

    def freeze(self) -> None:
        os.kill(self._pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self._pid(), signal.SIGCONT)

    def _pid(self) -> int:
        pid = self.pid
        if pid is None:
            raise RuntimeError("the suite's broker is not running")
        return pid
