"""docker-compose.yml and deploy/: every service, dependency, health check and required setting is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from contracts.topics import PARTITIONS

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = ["ingest", "classify", "subscriptions", "notify"]
INFRA = ["kafka", "qdrant", "postgres", "mailpit"]


def test_compose_holds_the_infrastructure_the_topic_job_and_the_four_services() -> None:
    assert set(SERVICES) == {*INFRA, "kafka-init", *APPS}


@pytest.mark.parametrize("name", INFRA)
def test_every_infrastructure_service_has_a_health_check(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    assert check["test"] and check["retries"] >= 3


def test_every_dependency_names_a_service_and_waits_for_it() -> None:
    for name, service in SERVICES.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            wanted = "service_completed_successfully" if target == "kafka-init" else "service_healthy"
            assert rule["condition"] == wanted, f"{name} -> {target}"
            if wanted == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{target} has no health check to wait for"


@pytest.mark.parametrize(
    ("app", "needs"),
    [
        ("ingest", {"kafka", "kafka-init"}),
        ("classify", {"kafka", "kafka-init", "qdrant"}),
        ("subscriptions", {"kafka", "kafka-init", "postgres"}),
        ("notify", {"kafka", "kafka-init", "postgres", "mailpit"}),
    ],
)
def test_each_service_starts_after_what_it_uses(app: str, needs: set[str]) -> None:
    assert needs <= set(SERVICES[app]["depends_on"])


@pytest.mark.parametrize("app", APPS)
def test_each_service_is_built_from_its_own_dockerfile_with_only_its_extra(app: str) -> None:
    build = SERVICES[app]["build"]
    assert build["context"] == "." and build["dockerfile"] == f"deploy/Dockerfile.{app}"
    dockerfile = (ROOT / build["dockerfile"]).read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert f"uv sync --frozen --no-dev --extra {app}" in dockerfile
    assert SERVICES[app]["environment"]["HORIZON_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


@pytest.mark.parametrize("app", ["ingest", "classify", "notify"])
def test_the_faststream_services_run_their_app_module(app: str) -> None:
    dockerfile = (ROOT / f"deploy/Dockerfile.{app}").read_text()
    assert f'CMD ["faststream", "run", "services.{app}.main:app"]' in dockerfile


def test_subscriptions_serves_its_asgi_app_with_uvicorn_on_8000() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile.subscriptions").read_text()
    assert re.search(r'^CMD \["uvicorn", "services\.subscriptions\.main:app".*"--port", "8000"', dockerfile, re.M)
    assert "127.0.0.1:8000:8000" in SERVICES["subscriptions"]["ports"]
    assert "127.0.0.1:8001:8001" in SERVICES["notify"]["ports"]


def test_services_get_their_backends_and_secrets_without_defaults() -> None:
    env = {app: SERVICES[app]["environment"] for app in APPS}
    assert env["classify"]["QDRANT_URL"] == "http://qdrant:6333"
    for app in ("subscriptions", "notify"):
        assert env[app]["DATABASE_URL"].startswith("postgresql+psycopg://horizon:${POSTGRES_PASSWORD:?")
    assert env["notify"]["SMTP_URL"].endswith("smtp://mailpit:1025}")
    assert env["subscriptions"]["HORIZON_SUBSCRIPTIONS_SECRET_KEY"].startswith("${HORIZON_SECRET_KEY:?")
    assert env["notify"]["HORIZON_NOTIFY_SECRET_KEY"].startswith("${HORIZON_LINK_SECRET:?")
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_kafka_is_a_single_kraft_node_that_auto_creates_dead_letter_topics() -> None:
    env = SERVICES["kafka"]["environment"]
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "true"


def test_kafka_init_creates_exactly_the_contract_topics_with_their_partitions() -> None:
    job = SERVICES["kafka-init"]
    specs = dict(spec.split(":") for spec in job["environment"]["HORIZON_TOPICS"].split())
    assert {topic: int(n) for topic, n in specs.items()} == PARTITIONS
    script = job["command"][0]
    assert "--create --if-not-exists" in script and "$${HORIZON_TOPICS}" in script
    assert job["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_named_volumes_are_declared_and_postgres_gets_its_databases() -> None:
    declared = set(COMPOSE["volumes"])
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in declared
            else:
                assert (ROOT / source).is_file(), source
    sql = (ROOT / "deploy/postgres/init-databases.sql").read_text()
    for app in ("subscriptions", "notify"):
        assert f"CREATE DATABASE horizon_{app}" in sql


def test_env_example_documents_every_variable_compose_reads() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    example = (ROOT / "deploy/env.example").read_text()
    documented = set(re.findall(r"^#?([A-Z_][A-Z0-9_]*)=", example, re.M))
    assert used and used <= documented, used - documented
