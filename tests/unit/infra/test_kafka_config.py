"""The local broker's generated configuration, wire probe and bookkeeping (no Java needed)."""

from __future__ import annotations

import os
import re
import socket
import struct
from pathlib import Path

from horizon import kafka_local
from horizon.kafka_local import KafkaLocalSettings


def _parse(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_server_properties_describe_a_single_node_kraft_broker_on_loopback(tmp_path: Path) -> None:
    props = _parse(kafka_local.server_properties("127.0.0.1", 19092, tmp_path / "data"))

    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert "controller.quorum.voters" not in props  # mixing it with --standalone fails
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"].startswith("PLAINTEXT://127.0.0.1:19092")
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["auto.create.topics.enable"] == "true"


def test_server_properties_keep_internal_topics_small_and_rebalances_immediate(tmp_path: Path) -> None:
    props = _parse(kafka_local.server_properties("127.0.0.1", 9092, tmp_path))

    for key in ("offsets.topic", "transaction.state.log", "share.coordinator.state.topic"):
        assert props[f"{key}.replication.factor"] == "1"
        assert props[f"{key}.num.partitions"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_settings_read_port_and_state_folder_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HORIZON_KAFKA_PORT", "29092")
    monkeypatch.setenv("HORIZON_KAFKA_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    settings = KafkaLocalSettings()

    assert settings.bootstrap == "127.0.0.1:29092"
    assert settings.pid_file == tmp_path / "state" / "kafka.pid"
    assert settings.lib_dir == tmp_path / "cache" / "horizon" / f"kafka-{kafka_local.KAFKA_VERSION}" / "lib"


def test_java_command_runs_the_main_class_on_the_cached_class_path(tmp_path: Path) -> None:
    settings = KafkaLocalSettings(home=tmp_path, cache_dir=tmp_path / "c", heap="256m")

    cmd = kafka_local.java_command(settings, "kafka.Kafka", "server.properties")

    assert "-Xmx256m" in cmd
    assert cmd[cmd.index("-cp") + 1] == str(settings.lib_dir / "*")
    assert cmd[-2:] == ["kafka.Kafka", "server.properties"]
    assert f"-Dlog4j2.configurationFile={tmp_path / 'config' / 'log4j2.properties'}" in cmd


def test_pom_pins_the_same_kafka_version_and_the_dependency_plugin() -> None:
    pom = kafka_local.POM.read_text()

    assert f"<kafka.version>{kafka_local.KAFKA_VERSION}</kafka.version>" in pom
    assert re.search(r"<artifactId>maven-dependency-plugin</artifactId>\s*<version>[\d.]+</version>", pom)
    assert "<artifactId>log4j-slf4j-impl</artifactId>" in pom  # the SLF4J 1.7 binding


def test_cluster_ids_are_22_url_safe_characters_and_differ() -> None:
    ids = {kafka_local.new_cluster_id() for _ in range(50)}

    assert len(ids) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", cid) for cid in ids)


def test_metadata_request_is_a_size_prefixed_v4_request_for_all_topics() -> None:
    raw = kafka_local.metadata_request(42, client_id="probe")

    (size,) = struct.unpack_from(">i", raw)
    assert size == len(raw) - 4
    api_key, version, correlation, client_len = struct.unpack_from(">hhih", raw, 4)
    assert (api_key, version, correlation, client_len) == (3, 4, 42, 5)
    assert raw[14:19] == b"probe"
    assert struct.unpack_from(">ib", raw, 19) == (-1, 0)  # null topic list = all; no auto-create


def test_metadata_response_gives_the_broker_count_and_checks_the_correlation_id() -> None:
    body = struct.pack(">iii", 42, 0, 1) + b"rest of the response"

    assert kafka_local.metadata_broker_count(body, 42) == 1
    try:
        kafka_local.metadata_broker_count(body, 43)
    except ValueError as exc:
        assert "correlation" in str(exc)
    else:
        raise AssertionError("a mismatched correlation id must be rejected")


def test_probe_of_a_port_that_answers_garbage_or_nothing_is_none() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert kafka_local.probe("127.0.0.1", port, timeout_s=0.5) is None  # accepts, never answers
    assert kafka_local.probe("127.0.0.1", port, timeout_s=0.5) is None  # closed


def test_status_of_a_missing_or_stale_pid_file_is_stopped(tmp_path: Path) -> None:
    settings = KafkaLocalSettings(home=tmp_path, port=19092)
    assert kafka_local.status(settings) == kafka_local.BrokerStatus(False, None, "127.0.0.1:19092")

    settings.pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a Kafka broker
    assert not kafka_local.status(settings).running
    assert kafka_local.stop(settings).ok
    assert not settings.pid_file.exists()


def test_start_refuses_a_port_another_process_holds(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        outcome = kafka_local.start(KafkaLocalSettings(home=tmp_path, port=port, cache_dir=tmp_path / "c"))

    assert not outcome.ok
    assert "in use" in outcome.message or "Java" in outcome.message
    assert not (tmp_path / "c").exists()  # refused before fetching anything


def test_jars_already_in_the_cache_are_not_fetched_again(tmp_path: Path, monkeypatch) -> None:
    settings = KafkaLocalSettings(home=tmp_path, cache_dir=tmp_path / "cache")
    settings.lib_dir.mkdir(parents=True)
    (settings.lib_dir / ".complete").write_text("4.1.1\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no mvn: it must not be needed

    outcome = kafka_local.fetch_jars(settings)

    assert outcome.ok and "present" in outcome.message
