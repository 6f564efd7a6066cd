"""`horizon up`: the four services against Kafka on one machine, as separate processes.

Each service runs exactly as it would alone (`faststream run services.<name>.main:app`, and
uvicorn for the HTTP apps), so that `up` exercises the same entry points as production. The
supervisor here only starts them with one consistent set of settings (ports, state folders,
shared secrets), prefixes their output, and stops them all on Ctrl-C, on SIGTERM, or when any
one of them dies. On the local secure broker each process signs in as its own service's
principal (`kafka` in `supervise`: the HORIZON_KAFKA_* variables of each service), so that its
ACLs hold; the stack's other secrets are made once in the state folder's secrets.json.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    service: str  # whose Kafka principal it signs in as


@dataclass(frozen=True)
class Ports:
    ingest: int
    classify: int
    subscriptions: int
    notify: int
    subscriptions_metrics: int  # the relay's /metrics, /ready, /health
    notify_metrics: int  # the scheduler's

    @classmethod
    def from_base(cls, base: int) -> "Ports":
        return cls(ingest=base, classify=base + 1, subscriptions=base + 2, notify=base + 3,
                   subscriptions_metrics=base + 4, notify_metrics=base + 5)


#: Each secret of the stack and how many random bytes it is made of.
SECRETS = {
    "signing_key": 32,
    "links_key": 32,
    "admin_password": 12,
    "ingest_api_key": 32,  # subscriptions' key to ingest's sources API
    "classify_api_key": 32,  # subscriptions' key to classify's preview API
}


def state_secrets(state: Path) -> dict[str, str]:
    """Secrets for this machine's stack, made once and kept (mode 600) so links stay valid; a
    secret added in a later version is made and kept beside the ones already there."""
    path = state / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    missing = {name: secrets.token_urlsafe(size) for name, size in SECRETS.items() if name not in values}
    if missing:
        values.update(missing)
        state.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)  # before the secrets are in it
        path.write_text(json.dumps(values))
    return values


def environment(state: Path, bootstrap: str, host: str, ports: Ports, admin_email: str) -> dict[str, str]:
    """One consistent set of settings for the four services."""
    keys = state_secrets(state)
    env = dict(os.environ)
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "HORIZON_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "HORIZON_INGEST_DATABASE_URL": f"sqlite:///{state / 'ingest.db'}",
            "HORIZON_INGEST_API_HOST": host,
            "HORIZON_INGEST_API_PORT": str(ports.ingest),
            "HORIZON_INGEST_SUBSCRIPTIONS_KEY": keys["ingest_api_key"],
            "HORIZON_CLASSIFY_DATA_DIR": str(state / "classify"),
            "HORIZON_CLASSIFY_API_HOST": host,
            "HORIZON_CLASSIFY_API_PORT": str(ports.classify),
            "HORIZON_CLASSIFY_SUBSCRIPTIONS_KEY": keys["classify_api_key"],
            "HORIZON_SUBSCRIPTIONS_DATABASE_URL": f"sqlite:///{state / 'subscriptions.db'}",
            "HORIZON_SUBSCRIPTIONS_SECRET_KEY": keys["signing_key"],
            "HORIZON_SUBSCRIPTIONS_PUBLIC_BASE_URL": f"http://{host}:{ports.subscriptions}",
            "HORIZON_SUBSCRIPTIONS_CLASSIFY_URL": f"http://{host}:{ports.classify}",
            "HORIZON_SUBSCRIPTIONS_INGEST_URL": f"http://{host}:{ports.ingest}",
            "HORIZON_SUBSCRIPTIONS_CLASSIFY_KEY": keys["classify_api_key"],
            "HORIZON_SUBSCRIPTIONS_INGEST_KEY": keys["ingest_api_key"],
            "HORIZON_SUBSCRIPTIONS_BOOTSTRAP_ADMIN_EMAIL": admin_email,
            "HORIZON_SUBSCRIPTIONS_BOOTSTRAP_ADMIN_PASSWORD": keys["admin_password"],
            "HORIZON_SUBSCRIPTIONS_METRICS_HOST": host,
            "HORIZON_SUBSCRIPTIONS_METRICS_PORT": str(ports.subscriptions_metrics),
            "HORIZON_SUBSCRIPTIONS_OUTBOX_DIR": str(state / "outbox"),
            "HORIZON_NOTIFY_DATABASE_URL": f"sqlite:///{state / 'notify.db'}",
            "HORIZON_NOTIFY_OUTBOX_DIR": str(state / "outbox"),
            "HORIZON_NOTIFY_SECRET_KEY": keys["links_key"],
            "HORIZON_NOTIFY_SELF_SERVICE_SECRET": keys["signing_key"],
            "HORIZON_NOTIFY_PUBLIC_BASE_URL": f"http://{host}:{ports.notify}",
            "HORIZON_NOTIFY_SUBSCRIPTIONS_BASE_URL": f"http://{host}:{ports.subscriptions}",
            "HORIZON_NOTIFY_METRICS_HOST": host,
            "HORIZON_NOTIFY_METRICS_PORT": str(ports.notify_metrics),
        }
    )
    return env


def prepare(state: Path, admin_email: str) -> None:
    """Create the databases of the services that run as two processes (subscriptions: relay and
    web app; notify: scheduler and links app) once, before those processes would race to."""
    from services.notify.store import NotifyStore
    from services.subscriptions.app import open_database
    from services.subscriptions.settings import SubscriptionsSettings

    keys = state_secrets(state)
    open_database(
        SubscriptionsSettings(
            database_url=f"sqlite:///{state / 'subscriptions.db'}",
            secret_key=keys["signing_key"],
            bootstrap_admin_email=admin_email,
            bootstrap_admin_password=keys["admin_password"],
        )
    )
    NotifyStore(f"sqlite:///{state / 'notify.db'}").close()


def processes(host: str, ports: Ports) -> list[Process]:
    python = sys.executable

    def uvicorn(target: str, port: int) -> list[str]:
        return [python, "-m", "uvicorn", target, "--host", host, "--port", str(port), "--log-level", "warning"]

    def faststream(service: str) -> list[str]:
        return [python, "-m", "faststream", "run", f"services.{service}.main:app"]

    return [
        Process("subscriptions", faststream("subscriptions"), "subscriptions"),
        Process("subscriptions-web", uvicorn("services.subscriptions.main:api", ports.subscriptions), "subscriptions"),
        Process("classify", faststream("classify"), "classify"),
        Process("notify", faststream("notify"), "notify"),
        Process("notify-links", uvicorn("services.notify.main:api", ports.notify), "notify"),
        Process("ingest", faststream("ingest"), "ingest"),
    ]


def _pump(name: str, stream) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>18} | {line.decode('utf-8', 'replace')}")
        sys.stdout.flush()


def supervise(specs: list[Process], env: dict[str, str], cwd: Path, grace_s: float = 20.0,
              kafka: dict[str, dict[str, str]] | None = None) -> int:
    """Run every process until a signal arrives or one of them exits; then stop them all.
    `kafka`: per service, the HORIZON_KAFKA_* variables that sign its processes in."""
    stopping = threading.Event()
    reason: list[str] = []

    def on_signal(signum, _frame) -> None:
        reason.append(signal.Signals(signum).name)
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    running: list[tuple[Process, subprocess.Popen]] = []
    try:
        for spec in specs:
            child = subprocess.Popen(
                spec.argv, env=env | (kafka or {}).get(spec.service, {}), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            threading.Thread(target=_pump, args=(spec.name, child.stdout), daemon=True).start()
            running.append((spec, child))
        while not stopping.wait(0.5):
            for spec, child in running:
                if child.poll() is not None:
                    reason.append(f"{spec.name} exited with {child.returncode}")
                    stopping.set()
                    break
    finally:
        _stop_all(running, grace_s)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    died = [r for r in reason if " exited " in r]
    print(f"horizon up stopped: {', '.join(reason) or 'done'}", flush=True)
    return 1 if died else 0


def _stop_all(running: list[tuple[Process, subprocess.Popen]], grace_s: float) -> None:
    for _, child in running:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for _, child in running:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
