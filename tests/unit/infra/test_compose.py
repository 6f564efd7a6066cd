"""docker-compose.yml and deploy/: every process (entry point, port, health check), dependency and required
setting; Prometheus scrapes every process and the Grafana dashboard queries only metrics the services export."""

from __future__ import annotations

import importlib
import json
import re
from contextlib import nullcontext
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from faststream import FastStream
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from contracts.topics import ALL_CONFIGS, ALL_TOPICS
from services.classify.settings import ClassifySettings
from services.common.kafka import KafkaSettings
from services.ingest.settings import IngestSettings
from services.notify.settings import NotifySettings
from services.subscriptions.settings import SubscriptionsSettings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = ["ingest", "classify", "subscriptions", "notify"]
WEB = {"subscriptions-web": "subscriptions", "notify-links": "notify"}  # second process -> its service
INFRA = ["kafka", "qdrant", "postgres", "mailpit"]
MONITORING = ["prometheus", "grafana"]
# process -> (how it runs, its entry point, the port it answers on, the health check's path);
# the FastStream apps of subscriptions and notify answer only on their metrics port
PROCESSES = {
    "ingest": ("faststream", "services.ingest.main:app", 8001, "/health"),
    "classify": ("faststream", "services.classify.main:app", 8002, "/health"),
    "subscriptions": ("faststream", "services.subscriptions.main:app", 9103, "/health"),
    "subscriptions-web": ("uvicorn", "services.subscriptions.main:api", 8003, "/login"),
    "notify": ("faststream", "services.notify.main:app", 9104, "/health"),
    "notify-links": ("uvicorn", "services.notify.main:api", 8004, "/healthz"),
}
PROMETHEUS = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
DASHBOARDS = ROOT / "deploy/grafana/dashboards"
COMMON_ENV = {"HORIZON_KAFKA_BOOTSTRAP_SERVERS", "FASTSTREAM_LOG_LEVEL", "HF_HUB_OFFLINE"}


def dockerfile_of(name: str) -> str:
    return (ROOT / SERVICES[name]["build"]["dockerfile"]).read_text()


def argv_of(name: str) -> list[str]:
    """What the container runs: compose's command, else the image's exec-form CMD."""
    if "command" in SERVICES[name]:
        return SERVICES[name]["command"]
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile_of(name), re.M)
    assert cmd, f"{name}: no exec-form CMD"
    return json.loads(cmd.group(1))


def test_compose_holds_the_infrastructure_the_topic_job_and_every_process() -> None:
    assert set(SERVICES) == {*INFRA, "kafka-init", *PROCESSES, *MONITORING}


@pytest.mark.parametrize("name", INFRA + MONITORING)
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
    ("name", "needs"),
    [
        ("ingest", {"kafka", "kafka-init"}),
        ("classify", {"kafka", "kafka-init", "qdrant"}),
        ("subscriptions", {"kafka", "kafka-init", "postgres", "subscriptions-web"}),
        ("subscriptions-web", {"postgres"}),
        ("notify", {"kafka", "kafka-init", "postgres", "mailpit"}),
        ("notify-links", {"postgres"}),
    ],
)
def test_each_process_starts_after_what_it_uses(name: str, needs: set[str]) -> None:
    # the relay waits for the web app, which migrates the database before it answers /login
    assert needs <= set(SERVICES[name]["depends_on"])


@pytest.mark.parametrize("name", list(PROCESSES))
def test_each_process_is_built_from_its_services_dockerfile_with_only_its_extra(name: str) -> None:
    app = WEB.get(name, name)
    build = SERVICES[name]["build"]
    assert build["context"] == "." and build["dockerfile"] == f"deploy/Dockerfile.{app}"
    dockerfile = dockerfile_of(name)
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert f"uv sync --frozen --no-dev --extra {app}" in dockerfile
    assert SERVICES[name]["environment"]["HORIZON_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


@pytest.mark.parametrize("name", list(PROCESSES))
def test_each_process_runs_its_entry_point_on_its_port(name: str) -> None:
    runner, target, port, _ = PROCESSES[name]
    argv = argv_of(name)
    if runner == "faststream":
        assert argv == ["faststream", "run", target]
    else:
        assert argv[:2] == ["uvicorn", target]
        assert argv[argv.index("--host") + 1] == "0.0.0.0"
        assert argv[argv.index("--port") + 1] == str(port)
        assert SERVICES[name]["ports"] == [f"127.0.0.1:{port}:{port}"]


@pytest.mark.parametrize("app", APPS)
def test_each_image_runs_its_faststream_app_by_default(app: str) -> None:
    assert f'CMD ["faststream", "run", "services.{app}.main:app"]' in dockerfile_of(app)


@pytest.mark.parametrize(("name", "api"), [("ingest", "INGEST"), ("classify", "CLASSIFY")])
def test_ingest_and_classify_serve_their_api_on_the_settings_default_port(name: str, api: str) -> None:
    settings = {"ingest": IngestSettings, "classify": ClassifySettings}[name]
    env = SERVICES[name]["environment"]
    assert env[f"HORIZON_{api}_API_HOST"] == "0.0.0.0"
    assert int(env[f"HORIZON_{api}_API_PORT"]) == settings.model_fields["api_port"].default == PROCESSES[name][2]
    assert f"EXPOSE {PROCESSES[name][2]}" in dockerfile_of(name)
    assert "ports" not in SERVICES[name]  # unauthenticated internal APIs stay inside the network


@pytest.mark.parametrize("name", [n for n, p in PROCESSES.items() if p[2]])
def test_each_http_process_is_health_checked_on_its_own_port(name: str) -> None:
    _, _, port, path = PROCESSES[name]
    check = SERVICES[name]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"] and "urllib.request.urlopen(sys.argv[1]" in check[3]
    assert check[4] == f"http://127.0.0.1:{port}{path}"


def test_the_two_processes_of_a_service_share_their_settings() -> None:
    for web, app in WEB.items():
        assert SERVICES[web]["environment"] == SERVICES[app]["environment"]
    assert "notify-data:/data" in SERVICES["notify"]["volumes"]


def accepted_names(settings: type[BaseSettings]) -> set[str]:
    prefix = settings.model_config["env_prefix"]
    names = set()
    for name, field in settings.model_fields.items():
        names.add(f"{prefix}{name}".upper())
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {c.upper() for c in alias.choices if isinstance(c, str)}
    return names


@pytest.mark.parametrize("name", list(PROCESSES))
def test_every_variable_given_to_a_process_is_a_setting_it_reads(name: str) -> None:
    settings = {"ingest": IngestSettings, "classify": ClassifySettings,
                "subscriptions": SubscriptionsSettings, "notify": NotifySettings}[WEB.get(name, name)]
    unknown = set(SERVICES[name]["environment"]) - accepted_names(settings) - accepted_names(KafkaSettings) - COMMON_ENV
    assert not unknown
    assert "HORIZON_KAFKA_BOOTSTRAP_SERVERS" in accepted_names(KafkaSettings)


def test_subscriptions_reaches_ingest_and_classify_and_links_agree_on_public_urls() -> None:
    subs, notify = SERVICES["subscriptions"]["environment"], SERVICES["notify"]["environment"]
    assert subs["HORIZON_SUBSCRIPTIONS_INGEST_URL"] == "http://ingest:8001"
    assert subs["HORIZON_SUBSCRIPTIONS_CLASSIFY_URL"] == "http://classify:8002"
    assert subs["HORIZON_SUBSCRIPTIONS_PUBLIC_BASE_URL"] == "${HORIZON_PUBLIC_URL:-http://localhost:8003}"
    assert notify["HORIZON_NOTIFY_SUBSCRIPTIONS_BASE_URL"] == subs["HORIZON_SUBSCRIPTIONS_PUBLIC_BASE_URL"]
    assert notify["HORIZON_NOTIFY_PUBLIC_BASE_URL"] == "${HORIZON_LINKS_URL:-http://localhost:8004}"
    # self-service links notify writes must verify in subscriptions: one key
    assert notify["HORIZON_NOTIFY_SELF_SERVICE_SECRET"].split(":?")[0] == \
        subs["HORIZON_SUBSCRIPTIONS_SECRET_KEY"].split(":?")[0]
    for variable in ("EMAIL", "PASSWORD"):
        name = f"HORIZON_SUBSCRIPTIONS_BOOTSTRAP_ADMIN_{variable}"
        assert subs[name].startswith(f"${{{name}:?")  # required, no default


@pytest.fixture
def service_modules(monkeypatch: pytest.MonkeyPatch):
    """Import services.<name>.main as the containers do (development secrets, no database opened)."""
    for service in ("NOTIFY", "SUBSCRIPTIONS", "INGEST", "CLASSIFY"):
        monkeypatch.setenv(f"HORIZON_{service}_DEV", "true")
    monkeypatch.setenv("HORIZON_SUBSCRIPTIONS_DEV", "true")
    return importlib.import_module


@pytest.mark.parametrize("name", list(PROCESSES))
def test_every_entry_point_is_an_app_of_the_kind_its_runner_needs(name: str, service_modules) -> None:
    runner, target, _, _ = PROCESSES[name]
    module, attribute = target.split(":")
    app = getattr(service_modules(module), attribute)
    assert isinstance(app, FastStream if runner == "faststream" else FastAPI)


def test_the_health_check_paths_answer_200_from_the_apps(tmp_path: Path) -> None:
    """Each health-checked path, asked of an app built by the factory its entry point uses."""
    from services.classify.api import create_api as classify_api
    from services.ingest.api import create_api as ingest_api
    from services.notify.app import create_links_api
    from services.subscriptions.app import create_api as subscriptions_api

    def db(name: str) -> str:
        return f"sqlite:///{tmp_path / name}.db"

    apps = {
        "ingest": ingest_api(IngestSettings(dev=True, database_url=db("ingest"))),
        "classify": classify_api(settings=ClassifySettings(dev=True)),  # its lifespan (the model) is not run: /health needs none
        "subscriptions-web": subscriptions_api(SubscriptionsSettings(dev=True, database_url=db("subscriptions"))),
        "notify-links": create_links_api(NotifySettings(dev=True, database_url=db("notify"))),
    }
    for name, api in apps.items():
        client = TestClient(api)
        # entering the client runs the lifespan: the database opens as in the container
        with nullcontext(client) if name == "classify" else client:
            assert client.get(PROCESSES[name][3]).status_code == 200, name


def test_services_get_their_backends_and_secrets_without_defaults() -> None:
    env = {name: SERVICES[name]["environment"] for name in PROCESSES}
    assert env["classify"]["QDRANT_URL"] == "http://qdrant:6333"
    for app in ("subscriptions", "notify", *WEB):
        assert env[app]["DATABASE_URL"].startswith("postgresql+psycopg://horizon:${POSTGRES_PASSWORD:?")
    assert env["notify"]["SMTP_URL"].endswith("smtp://mailpit:1025}")
    assert env["subscriptions"]["HORIZON_SUBSCRIPTIONS_SECRET_KEY"].startswith("${HORIZON_SECRET_KEY:?")
    assert env["notify"]["HORIZON_NOTIFY_SECRET_KEY"].startswith("${HORIZON_LINK_SECRET:?")
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


BROKER_SCRIPT = (ROOT / "deploy/kafka/compose-broker.sh").read_text()


def _properties(text: str) -> dict[str, str]:
    body = text.split("<<EOF\n", 1)[1].split("\nEOF", 1)[0]
    return dict(line.split("=", 1) for line in body.splitlines())


def test_kafka_is_a_single_secure_kraft_node_that_auto_creates_dead_letter_topics() -> None:
    kafka = SERVICES["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["entrypoint"] == ["/bin/bash", "/horizon/compose-broker.sh"]
    assert "./deploy/kafka/compose-broker.sh:/horizon/compose-broker.sh:ro" in kafka["volumes"]
    props = _properties(BROKER_SCRIPT)
    assert props["process.roles"] == "broker,controller"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://${HOST}:9092,HOST://localhost:29092"
    # no listener takes clients that have not signed in
    assert set(props["listener.security.protocol.map"].replace(",", ":").split(":")[1::2]) == {"SASL_PLAINTEXT"}
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["super.users"] == "User:admin" and props["allow.everyone.if.no.acl.found"] == "false"
    assert props["auto.create.topics.enable"] == "true"
    assert "--add-scram" in BROKER_SCRIPT and "--command-config /tmp/horizon-admin.properties" in str(
        kafka["healthcheck"]["test"])


def test_the_broker_stores_every_principals_password_and_each_service_signs_in_as_itself() -> None:
    broker = SERVICES["kafka"]["environment"]
    for principal in ("admin", *APPS):
        variable = f"HORIZON_KAFKA_{principal.upper()}_PASSWORD"
        assert broker[variable] == f"${{{variable}:?set {variable} (see deploy/env.example)}}"
    for name in PROCESSES:
        env, app = SERVICES[name]["environment"], WEB.get(name, name)
        assert env["HORIZON_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["HORIZON_KAFKA_USERNAME"] == app
        assert env["HORIZON_KAFKA_PASSWORD"].startswith(f"${{HORIZON_KAFKA_{app.upper()}_PASSWORD:?")
    assert SERVICES["kafka-init"]["environment"]["HORIZON_KAFKA_ADMIN_PASSWORD"].startswith(
        "${HORIZON_KAFKA_ADMIN_PASSWORD:?")


def test_kafka_init_creates_exactly_the_acls_of_the_local_broker() -> None:
    from horizon.kafka_local import Grant, grants

    made = set()
    for spec in SERVICES["kafka-init"]["environment"]["HORIZON_ACLS"].split():
        principal, operations, resource, names, *pattern = spec.split(":")
        made |= {Grant(principal, operation, resource, name, pattern[0] if pattern else "literal")
                 for operation in operations.split(",") for name in names.split(",")}
    assert made == set(grants())
    script = SERVICES["kafka-init"]["command"][0]
    assert "kafka-acls.sh --bootstrap-server kafka:9092 --command-config" in script and "$${HORIZON_ACLS}" in script


def test_ingest_and_classify_take_the_keys_subscriptions_calls_them_with() -> None:
    env = {name: SERVICES[name]["environment"] for name in PROCESSES}
    assert env["ingest"]["HORIZON_INGEST_SUBSCRIPTIONS_KEY"] == env["subscriptions"]["HORIZON_SUBSCRIPTIONS_INGEST_KEY"]
    assert env["classify"]["HORIZON_CLASSIFY_SUBSCRIPTIONS_KEY"] == \
        env["subscriptions"]["HORIZON_SUBSCRIPTIONS_CLASSIFY_KEY"]
    assert env["ingest"]["HORIZON_INGEST_SUBSCRIPTIONS_KEY"].startswith("${HORIZON_INGEST_API_KEY:?")
    assert env["classify"]["HORIZON_CLASSIFY_SUBSCRIPTIONS_KEY"].startswith("${HORIZON_CLASSIFY_API_KEY:?")


def test_kafka_init_creates_exactly_the_contract_topics_with_their_partitions() -> None:
    job = SERVICES["kafka-init"]
    specs = {spec.split(":")[0]: spec.split(":")[1:] for spec in job["environment"]["HORIZON_TOPICS"].split()}
    assert {topic: int(s[0]) for topic, s in specs.items()} == ALL_TOPICS
    settings = {topic: dict(kv.split("=") for kv in s[1].split(",")) for topic, s in specs.items() if len(s) > 1}
    assert settings == ALL_CONFIGS
    script = job["command"][0]
    assert "--create --if-not-exists" in script and "$${HORIZON_TOPICS}" in script
    assert '--command-config "$${admin}" --create' in script  # topics are made as admin
    assert job["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_named_volumes_are_declared_and_postgres_gets_its_databases() -> None:
    declared = set(COMPOSE["volumes"])
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in declared
            else:
                assert (ROOT / source).exists(), source  # a file, or a folder (Grafana's provisioning)
    sql = (ROOT / "deploy/postgres/init-databases.sql").read_text()
    for app in ("subscriptions", "notify"):
        assert f"CREATE DATABASE horizon_{app}" in sql


def test_env_example_documents_every_variable_compose_reads() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    example = (ROOT / "deploy/env.example").read_text()
    documented = set(re.findall(r"^#?([A-Z_][A-Z0-9_]*)=", example, re.M))
    assert used and used <= documented, used - documented


# --- monitoring: Prometheus and Grafana ------------------------------------------------------

def metrics_port_of(name: str) -> int:
    """The port a process serves /metrics on, as compose configures it."""
    env, app = SERVICES[name]["environment"], WEB.get(name, name).upper()
    if name in ("ingest", "classify"):
        return int(env[f"HORIZON_{app}_API_PORT"])
    if name in WEB:
        argv = argv_of(name)
        return int(argv[argv.index("--port") + 1])
    assert env[f"HORIZON_{app}_METRICS_HOST"] == "0.0.0.0"
    return int(env[f"HORIZON_{app}_METRICS_PORT"])


def test_prometheus_scrapes_every_process_on_the_port_its_settings_give_it() -> None:
    jobs = {job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
            for job in PROMETHEUS["scrape_configs"] if job["job_name"] != "prometheus"}
    assert set(jobs) == set(APPS)
    for job in PROMETHEUS["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
    expected = {WEB.get(n, n): set() for n in PROCESSES}
    for name in PROCESSES:
        port = metrics_port_of(name)
        assert port == PROCESSES[name][2]
        expected[WEB.get(name, name)].add(f"{name}:{port}")
        if "ports" not in SERVICES[name]:  # reachable inside the network only
            assert str(port) in SERVICES[name]["expose"], name
    assert {job: set(targets) for job, targets in jobs.items()} == expected


@pytest.mark.parametrize(("settings", "name"), [(SubscriptionsSettings, "subscriptions"), (NotifySettings, "notify")])
def test_a_faststream_app_alone_serves_no_port_unless_asked(settings: type[BaseSettings], name: str) -> None:
    assert settings.model_fields["metrics_port"].default == 0
    assert settings.model_fields["metrics_host"].default == "127.0.0.1"


def test_prometheus_and_grafana_are_pinned_provisioned_and_local_only() -> None:
    prometheus, grafana = SERVICES["prometheus"], SERVICES["grafana"]
    for service in (prometheus, grafana):
        image, _, tag = service["image"].partition(":")
        assert tag and tag != "latest" and (tag[0].isdigit() or tag.startswith("v")), service["image"]
        assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/horizon.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == mounts["./deploy/grafana/dashboards"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    source = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    [datasource] = source["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    for dashboard in DASHBOARDS.glob("*.json"):
        for panel in json.loads(dashboard.read_text())["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]


def exported_metric_names() -> set[str]:
    """Every sample name the services' metrics modules register (what /metrics can show)."""
    from prometheus_client import REGISTRY

    for app in APPS:
        importlib.import_module(f"services.{app}.metrics")
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {family.name + suffix for family in REGISTRY.collect() if family.name.startswith("horizon_")
            for suffix in suffixes.get(family.type, [""])}


def test_the_dashboard_parses_and_every_panel_queries_metrics_the_services_export() -> None:
    exported = exported_metric_names()
    [dashboard] = DASHBOARDS.glob("*.json")
    panels = [p for p in json.loads(dashboard.read_text())["panels"] if p["type"] != "row"]
    queried = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(re.findall(r"\bhorizon_[a-z0-9_]+", target["expr"]))
            assert names and names <= exported, (panel["title"], names - exported)
            queried |= names
    # what operators asked to see
    for wanted in ("horizon_ingest_items_fetched_total", "horizon_classify_items_classified_total",
                   "horizon_classify_matches_total", "horizon_classify_item_fanout_subscribers_bucket",
                   "horizon_notify_consumer_lag_messages", "horizon_notify_messages_dead_lettered_total",
                   "horizon_notify_deliveries_total", "horizon_notify_possible_duplicate_sends_total",
                   "horizon_ingest_feed_failures_total", "horizon_subscriptions_http_request_duration_seconds_bucket",
                   "horizon_notify_http_request_duration_seconds_bucket"):
        assert wanted in queried, wanted


def test_every_web_app_serves_metrics_in_the_prometheus_text_format(tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from services.classify.api import create_api as classify_api
    from services.ingest.api import create_api as ingest_api
    from services.notify.app import create_links_api
    from services.subscriptions.app import create_api as subscriptions_api

    apps = {
        "ingest": ingest_api(IngestSettings(dev=True, database_url=f"sqlite:///{tmp_path / 'i.db'}")),
        "classify": classify_api(settings=ClassifySettings(dev=True)),
        "subscriptions": subscriptions_api(SubscriptionsSettings(dev=True, database_url=f"sqlite:///{tmp_path / 's.db'}")),
        "notify": create_links_api(NotifySettings(dev=True, database_url=f"sqlite:///{tmp_path / 'n.db'}")),
    }
    for name, api in apps.items():
        response = TestClient(api).get("/metrics")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain"), name
        families = {f.name for f in text_string_to_metric_families(response.text)}
        assert f"horizon_{name}_http_request_duration_seconds" in families, name
