"""The README documents every setting and the commands users rely on."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()

SETTINGS = [
    ("services.common.kafka", "KafkaSettings"),
    ("horizon.kafka_local.settings", "KafkaLocalSettings"),
    ("services.ingest.settings", "IngestSettings"),
    ("services.classify.settings", "ClassifySettings"),
    ("services.subscriptions.settings", "SubscriptionsSettings"),
    ("services.notify.settings", "NotifySettings"),
]


def _env_names(module: str, name: str) -> list[str]:
    cls = getattr(importlib.import_module(module), name)
    prefix = cls.model_config.get("env_prefix", "")
    return [(prefix + field).upper() for field in cls.model_fields]


@pytest.mark.parametrize(("module", "name"), SETTINGS)
def test_every_setting_is_in_the_readme_table(module, name):
    missing = [env for env in _env_names(module, name) if f"`{env}`" not in README]
    assert missing == []


def test_first_commands_are_make_demo_and_make_test():
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick_start and "make test" in quick_start


@pytest.mark.parametrize(
    "command",
    ["horizon demo", "horizon ingest parse", "horizon bench relevance", "horizon bench pipeline",
     "horizon kafka", "horizon up", "horizon dlq", "faststream run services.ingest.main:app"],
)
def test_commands_users_rely_on_are_documented(command):
    assert command in README
