"""Session fixtures for the real components: a Kafka broker, a PostgreSQL server, Docker.

- `kafka_bootstrap`: "host:port" of a running Apache Kafka broker with the project's topics.
  HORIZON_KAFKA_BOOTSTRAP if set; else a testcontainers broker when a Docker engine answers;
  else the project's own broker (horizon/kafka_local.py, Maven Central jars, Java 17) on free
  ports in a temporary folder, stopped at the end of the session.
- `secure_kafka`: the project's own broker as `horizon kafka start` runs it (SASL/SCRAM, a
  principal per service, ACLs), on its own free ports; its KafkaLocalSettings.
- `postgres_url`: a SQLAlchemy URL (postgresql+psycopg://...) of a fresh, empty database on the
  server named by HORIZON_TEST_DATABASE_URL, dropped after the test (`pg_database` is an alias).
- `requires_docker` fixture and `@pytest.mark.docker`: skip cleanly when no Docker engine answers.

Where a component is missing the test is skipped with the reason, except under CI=true, where
a missing component is a failure: CI must run every integration test.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from testcontainers.community.kafka import KafkaContainer

log = logging.getLogger(__name__)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip locally, fail under CI: a component the test needs is not there."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: every integration test must run)", pytrace=False)
    pytest.skip(reason)


@functools.cache
def docker_available() -> bool:
    """Whether a Docker engine answers a ping (a client binary alone is not enough)."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (DockerException, OSError) as exc:  # requests' errors are OSErrors
        log.info("no Docker engine", extra={"error": repr(exc)})
        return False


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a Docker engine; skipped cleanly without one")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") and not docker_available():
        pytest.skip("no Docker engine answers")


@pytest.fixture(scope="session")
def requires_docker() -> None:
    if not docker_available():
        pytest.skip("no Docker engine answers")




@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real Kafka broker for the whole session."""
    from horizon import kafka_local

    given = os.environ.get("HORIZON_KAFKA_BOOTSTRAP")
    if given:
        yield given
        return
    if docker_available():
        container = _start_kafka_container()
        if container is not None:
            bootstrap = container.get_bootstrap_server()
            kafka_local.ensure_topics(bootstrap)
            yield bootstrap
            container.stop()
            return
    if shutil.which("java") is None:
        unavailable("no Kafka: set HORIZON_KAFKA_BOOTSTRAP, or install Java 17 and Maven, or run Docker")
    # PLAINTEXT, so that every test can reach it as it likes; the secure broker (SASL/SCRAM, ACLs),
    # what `horizon kafka start` runs by default, is tested on a broker of its own
    # (tests/integration/infra/test_kafka_secure.py)
    settings = kafka_local.KafkaLocalSettings(home=tmp_path_factory.mktemp("kafka"), port=kafka_local.free_port_pair(),
                                              secure=False)
    fetched = kafka_local.fetch_jars(settings)
    if not fetched.ok:
        unavailable(f"no Kafka jars: {fetched.message}")
    started = kafka_local.start(settings)
    if not started.ok:
        pytest.fail(f"the local Kafka broker did not start: {started.message}", pytrace=False)
    try:
        kafka_local.ensure_topics(settings.bootstrap)
        yield settings.bootstrap
    finally:
        kafka_local.stop(settings)


@pytest.fixture(scope="session")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The project's own broker as `horizon kafka start` runs it by default: SASL/SCRAM for every
    client, a principal per service and `admin`, and the services' ACLs; the project's topics made.
    Yields its KafkaLocalSettings: `kafka_local.principal_settings(settings, "ingest")` signs in."""
    from horizon import kafka_local

    if shutil.which("java") is None:
        unavailable("no Java 17 for the secure Kafka broker")
    settings = kafka_local.KafkaLocalSettings(home=tmp_path_factory.mktemp("kafka-secure"), port=kafka_local.free_port_pair())
    fetched = kafka_local.fetch_jars(settings)
    if not fetched.ok:
        unavailable(f"no Kafka jars: {fetched.message}")
    started = kafka_local.start(settings)
    if not started.ok:
        pytest.fail(f"the secure Kafka broker did not start: {started.message}", pytrace=False)
    try:
        kafka_local.ensure_topics(kafka_local.principal_settings(settings))
        yield settings
    finally:
        kafka_local.stop(settings)


def _start_kafka_container() -> KafkaContainer | None:
    from docker.errors import DockerException
    from testcontainers.community.kafka import KafkaContainer

    container = KafkaContainer().with_kraft()
    try:
        return container.start()
    except (DockerException, OSError) as exc:
        log.warning("Kafka container did not start; trying the local broker", extra={"error": repr(exc)})
        return None


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of the PostgreSQL server tests may create databases on."""
    url = os.environ.get("HORIZON_TEST_DATABASE_URL")
    if not url:
        unavailable("no PostgreSQL: set HORIZON_TEST_DATABASE_URL (CI starts a server and sets it)")
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A SQLAlchemy URL of a fresh, empty PostgreSQL database, dropped after the test."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres_server_url)
    name = f"horizon_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(psycopg, admin_dsn, name)


def _drop_database(psycopg, admin_dsn: str, name: str, attempts: int = 5) -> None:
    """Drop a test database; a backend the test role may not end (an autovacuum worker that
    has just attached) is waited out, and a database that still cannot go is left with a warning
    on the throw-away server rather than failing the test that used it."""
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege as exc:
            last = exc
            time.sleep(0.5 * (attempt + 1))
    warnings.warn(f"test database {name} left behind: {last}", stacklevel=2)


@pytest.fixture
def pg_database(postgres_url: str) -> str:
    """Alias of `postgres_url`: a fresh database per test."""
    return postgres_url
