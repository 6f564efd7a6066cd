"""AsyncAPI documents generated from the services' FastStream apps, and a drift check.

The documents under docs/asyncapi/ are committed so that readers (and other teams' consumers)
can see every channel and payload without running anything; `horizon asyncapi --check` and a
test fail when an app's topics or payloads change and the documents were not regenerated.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from faststream import FastStream

DOCS = Path(__file__).resolve().parents[1] / "docs" / "asyncapi"
SERVICES = ("ingest", "classify", "subscriptions", "notify")


def build_app(service: str) -> FastStream:
    """The service's app, built with settings that need no secrets (nothing connects or loads)."""
    if service == "ingest":
        from services.ingest.app import create_app
        from services.ingest.settings import IngestSettings

        return create_app(IngestSettings(api_port=0))
    if service == "classify":
        from services.classify.app import create_app
        from services.classify.settings import ClassifySettings

        return create_app(ClassifySettings(api_port=0))
    if service == "subscriptions":
        from services.subscriptions.app import create_app
        from services.subscriptions.settings import SubscriptionsSettings

        return create_app(SubscriptionsSettings(dev=True))
    if service == "notify":
        from services.notify.app import create_app
        from services.notify.settings import NotifySettings

        return create_app(NotifySettings(dev=True))
    raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")


def render(service: str) -> str:
    """The AsyncAPI 3.0 document of one service, as YAML with sorted keys (stable across runs)."""
    document = build_app(service).schema.to_specification().to_jsonable()
    document["info"] = {
        "title": f"Horizon {service}",
        "version": "1",
        "description": f"Topics the {service} service consumes and publishes (generated; do not edit).",
    }
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True)


def write_all(docs: Path = DOCS) -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        path = docs / f"{service}.yaml"
        path.write_text(render(service))
        written.append(path)
    return written


def drifted(docs: Path = DOCS) -> list[str]:
    """The services whose committed document differs from what their app generates now."""
    stale = []
    for service in SERVICES:
        path = docs / f"{service}.yaml"
        if not path.exists() or path.read_text() != render(service):
            stale.append(service)
    return stale
