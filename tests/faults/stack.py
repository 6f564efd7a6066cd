"""The four services, their own broker and an SMTP server, as one stack the faults run against.

Every service runs as production runs it (`faststream run services.<name>.main:app`) with its
own SQLite database in the stack's folder; the test process reaches into those databases only
to do what a librarian would (add subscribers and sources) and to read the outcome. Settings
that make the pipeline quick to observe: ingest polls every second and its outbox relay takes
over a crashed poller's events after 5 s; notify sends pending items at once (a forced extra
digest per round), every second, holds a send lease for 10 s and shows up to 100 items.

`counted_duplicates()` is notify's `horizon_notify_possible_duplicate_sends_total`, summed over
every notify process the stack has run: a background thread scrapes each one's /metrics, since a
killed process takes its counters with it.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from pathlib import Path

import httpx

from tests.faults.broker import LocalBroker
from tests.faults.mailbox import Mailbox, free_port
from tests.faults.processes import Service
from tests.faults.settings import FaultSettings

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("subscriptions", "classify", "notify", "ingest")
#: Inherited variables that would point a service somewhere else than the stack.
_FOREIGN = re.compile(r"^(HORIZON_(?!FAULTS_)|DATABASE_URL$|SMTP_URL$|QDRANT_URL$)")
_METRIC = re.compile(r"^(horizon_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$")


class Stack:
    def __init__(self, home: Path, settings: FaultSettings) -> None:
        self.home = home
        self.settings = settings
        self.broker = LocalBroker(home / "kafka")
        self.mailbox = Mailbox()
        self.ports = {name: free_port() for name in SERVICES}
        # the keys subscriptions calls classify's and ingest's APIs with, as in production: no dev mode
        self.keys = {"classify": secrets.token_urlsafe(24), "ingest": secrets.token_urlsafe(24)}
        self.urls = {
            "ingest": f"sqlite:///{home / 'ingest.db'}",
            "notify": f"sqlite:///{home / 'notify.db'}",
            "subscriptions": f"sqlite:///{home / 'subscriptions.db'}",
        }
        self.services: dict[str, Service] = {}
        self.topics_taken = 0  # workload.TOPICS given to runs so far: each run has interests of its own
        self._duplicates: dict[int, float] = {}
        self._scraping = threading.Event()
        self._scraper: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.broker.start()
        self.mailbox.up()
        self._prepare_databases()
        for name in SERVICES:
            self.services[name] = Service(name, self._env(name), self.home / f"{name}.log", self._health(name),
                                          cwd=self.home)
            self.services[name].start()
        for service in self.services.values():
            service.wait_healthy(self.settings.deadline_s)
        self._scraping.set()
        self._scraper = threading.Thread(target=self._scrape_forever, name="faults-scraper", daemon=True)
        self._scraper.start()

    def ensure_up(self) -> None:
        """Bring back whatever an earlier test left down, so that each fault starts whole."""
        if not self.broker.running():
            self.broker.start()
        else:
            self.broker.thaw()
        self.mailbox.up()
        for service in self.services.values():
            if service.alive():
                service.thaw()
            else:
                service.start()
        for service in self.services.values():
            service.wait_healthy(self.settings.deadline_s)

    def stop(self) -> None:
        self._scraping.clear()
        for name in reversed(SERVICES):
            if name in self.services:
                self.services[name].stop()
        self.mailbox.down()
        if self.broker.running():
            self.broker.thaw()  # a frozen broker cannot act on SIGTERM
        self.broker.stop()

    def restart(self, name: str) -> None:
        service = self.services[name]
        service.start()
        service.wait_healthy(self.settings.deadline_s)

    # --- what the stack reports ---------------------------------------------------------------

    def metrics(self, name: str) -> dict[str, float]:
        """A service's Prometheus counters and gauges, summed over their labels (empty if it does not answer)."""
        try:
            text = httpx.get(self._base(name) + "/metrics", timeout=3.0).text
        except httpx.HTTPError:
            return {}
        out: dict[str, float] = {}
        for line in text.splitlines():
            found = _METRIC.match(line)
            if found:
                out[found.group(1)] = out.get(found.group(1), 0.0) + float(found.group(3))
        return out

    def counted_duplicates(self) -> int:
        self._scrape_notify()
        return int(sum(self._duplicates.values()))

    def _scrape_forever(self) -> None:
        while self._scraping.is_set():
            self._scrape_notify()
            time.sleep(0.5)

    def _scrape_notify(self) -> None:
        notify = self.services.get("notify")
        pid = notify.pid if notify is not None and notify.alive() else None
        if pid is None:
            return
        value = self.metrics("notify").get("horizon_notify_possible_duplicate_sends_total")
        if value is not None:
            self._duplicates[pid] = max(self._duplicates.get(pid, 0.0), value)

    # --- wiring -------------------------------------------------------------------------------

    def _base(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _health(self, name: str) -> str:
        return self._base(name) + "/health"

    def _prepare_databases(self) -> None:
        """Create the databases before the services and the tests both reach for them."""
        from services.ingest.store import SqlStore
        from services.notify.store import NotifyStore
        from services.subscriptions.app import open_database
        from services.subscriptions.settings import SubscriptionsSettings

        open_database(SubscriptionsSettings(_env_file=None, database_url=self.urls["subscriptions"], dev=True))
        NotifyStore(self.urls["notify"]).close()
        SqlStore(self.urls["ingest"]).engine.dispose()

    def _env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not _FOREIGN.match(k)}
        env.update({
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
            "HORIZON_KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "HORIZON_KAFKA_RETRY_BACKOFF_MAX_S": str(self.settings.backoff_max_s),
            "HORIZON_CLASSIFY_SUBSCRIPTIONS_KEY": self.keys["classify"],
            "HORIZON_SUBSCRIPTIONS_CLASSIFY_KEY": self.keys["classify"],
            "HORIZON_INGEST_SUBSCRIPTIONS_KEY": self.keys["ingest"],
            "HORIZON_SUBSCRIPTIONS_INGEST_KEY": self.keys["ingest"],
        })
        port = str(self.ports[name])
        env.update({
            "ingest": {
                "HORIZON_INGEST_DATABASE_URL": self.urls["ingest"], "HORIZON_INGEST_API_PORT": port,
                "HORIZON_INGEST_ALLOW_FILE_URLS": "true", "HORIZON_INGEST_POLL_TICK_S": "1",
                "HORIZON_INGEST_OUTBOX_HOLD_S": "5", "HORIZON_INGEST_JITTER_FRACTION": "0",
            },
            "classify": {
                "HORIZON_CLASSIFY_DATA_DIR": str(self.home / "classify"), "HORIZON_CLASSIFY_API_PORT": port,
            },
            "notify": {
                "HORIZON_NOTIFY_DATABASE_URL": self.urls["notify"], "HORIZON_NOTIFY_METRICS_PORT": port,
                "HORIZON_NOTIFY_SMTP_URL": self.mailbox.url, "HORIZON_NOTIFY_DEV": "true",
                "HORIZON_NOTIFY_SEND_IMMEDIATELY": "true", "HORIZON_NOTIFY_SCHEDULER_INTERVAL_S": "1",
                "HORIZON_NOTIFY_SMTP_BACKOFF_S": "0.2", "HORIZON_NOTIFY_SMTP_TIMEOUT_S": "10",
                "HORIZON_NOTIFY_MAX_ITEMS": "100", "HORIZON_NOTIFY_SEND_LEASE_S": "10",
                "HORIZON_NOTIFY_BRIEFING_PDF": "false", "HORIZON_NOTIFY_OUTBOX_DIR": str(self.home / "outbox"),
            },
            "subscriptions": {
                "HORIZON_SUBSCRIPTIONS_DATABASE_URL": self.urls["subscriptions"], "HORIZON_SUBSCRIPTIONS_DEV": "true",
                "HORIZON_SUBSCRIPTIONS_METRICS_PORT": port, "HORIZON_SUBSCRIPTIONS_RESOLVE_EXAMPLES": "false",
                "HORIZON_SUBSCRIPTIONS_RELAY_INTERVAL_S": "0.5",
            },
        }[name])
        return env
