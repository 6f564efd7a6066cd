"""The secure broker's configuration and ACLs as data: what each principal may do, and the
properties that make SCRAM, the controller's PLAIN and the StandardAuthorizer work together."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from pydantic import SecretStr

from contracts.topics import ALL_TOPICS, CONSUMERS, DEAD_LETTER_TOPICS, ITEMS, PRODUCERS, PROFILES, SERVICES
from horizon import kafka_local
from horizon.kafka_local.credentials import scram_arguments
from horizon.kafka_local.wire import api_versions_error, api_versions_request
from services.common.kafka import KafkaSettings


def _parse(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_a_secure_broker_signs_clients_in_with_scram_and_lets_acls_decide(tmp_path: Path) -> None:
    props = _parse(kafka_local.server_properties("127.0.0.1", 19092, tmp_path, kafka_local.BrokerSecurity("pw")))
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["listener.security.protocol.map"] == "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-256,SCRAM-SHA-512"
    assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["super.users"] == "User:admin"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert 'user_admin="pw"' in props["listener.name.controller.plain.sasl.jaas.config"]
    assert "PLAINTEXT://" not in props["listeners"].replace("SASL_PLAINTEXT://", "")


def test_with_a_key_store_the_client_port_speaks_tls(tmp_path: Path) -> None:
    security = kafka_local.BrokerSecurity("pw", tmp_path / "ks.pem", tmp_path / "ca.pem")
    props = _parse(kafka_local.server_properties("127.0.0.1", 19092, tmp_path, security))
    assert props["listeners"].startswith("SASL_SSL://127.0.0.1:19092")
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert (props["ssl.keystore.type"], props["ssl.truststore.type"]) == ("PEM", "PEM")


def test_a_development_broker_stays_plaintext(tmp_path: Path) -> None:
    props = _parse(kafka_local.server_properties("127.0.0.1", 19092, tmp_path))
    assert props["listeners"].startswith("PLAINTEXT://") and "authorizer.class.name" not in props


def test_the_local_broker_is_secure_by_default_and_tls_needs_both_files(tmp_path: Path) -> None:
    assert kafka_local.KafkaLocalSettings().secure is True
    assert kafka_local.KafkaLocalSettings().listener_protocol == "SASL_PLAINTEXT"
    assert kafka_local.KafkaLocalSettings(ssl_certfile=tmp_path / "c", ssl_keyfile=tmp_path / "k").listener_protocol \
        == "SASL_SSL"
    with pytest.raises(ValueError, match="together"):
        kafka_local.KafkaLocalSettings(ssl_certfile=tmp_path / "c")


def test_only_each_topics_producer_may_write_it() -> None:
    writes = {(g.principal, g.name) for g in kafka_local.grants() if g.operation == "WRITE"}
    assert {name for principal, name in writes if principal == "ingest"} == {ITEMS}
    assert {principal for principal, name in writes if name == PROFILES} == {"subscriptions"}
    for topic in PRODUCERS:
        assert {p for p, name in writes if name == topic} == {PRODUCERS[topic]}
    # each consumer writes its own dead-letter topics, and no one writes another's
    assert {name for _, name in writes} == set(PRODUCERS) | set(DEAD_LETTER_TOPICS)
    assert all(name.endswith(f".dlq.{p}") for p, name in writes if name in DEAD_LETTER_TOPICS)


def test_each_service_reads_what_it_consumes_in_groups_named_for_it() -> None:
    grants = kafka_local.grants()
    reads = {(g.principal, g.name) for g in grants if g.operation == "READ" and g.resource == "topic"}
    assert reads == {(service, topic) for topic, services in CONSUMERS.items() for service in services}
    groups = {(g.principal, g.name, g.pattern) for g in grants if g.resource == "group"}
    assert {(p, n) for p, n, _ in groups} == {("classify", "classify"), ("subscriptions", "subscriptions"),
                                              ("notify", "notify")}
    assert {pattern for _, _, pattern in groups} == {"prefixed"}
    assert not any(g.principal == "admin" for g in grants)  # a super user; and ingest joins no group
    assert set(SERVICES) == {g.principal for g in grants}
    assert set(ALL_TOPICS) >= {g.name for g in grants if g.resource == "topic"}


def test_scram_credentials_are_stored_for_both_mechanisms() -> None:
    assert scram_arguments({"ingest": "pw"}) == ["--add-scram", "SCRAM-SHA-256=[name=ingest,password=pw]",
                                                 "--add-scram", "SCRAM-SHA-512=[name=ingest,password=pw]"]


def test_api_versions_is_a_v0_request_and_its_error_code_is_read() -> None:
    request = api_versions_request(9, "p")
    assert struct.unpack(">ihhih", request[:14]) == (len(request) - 4, 18, 0, 9, 1)
    assert api_versions_error(struct.pack(">ihi", 9, 0, 0), 9) == 0
    with pytest.raises(ValueError):
        api_versions_error(struct.pack(">ihi", 8, 0, 0), 9)


def test_client_settings_need_credentials_for_sasl_and_give_them_to_every_client() -> None:
    with pytest.raises(ValueError, match="HORIZON_KAFKA_USERNAME"):
        KafkaSettings(security_protocol="SASL_PLAINTEXT")
    kafka = KafkaSettings(security_protocol="SASL_PLAINTEXT", username="notify", password=SecretStr("pw"))
    assert kafka.client_options() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "SASL_PLAINTEXT",
                                      "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "notify",
                                      "sasl_plain_password": "pw"}
    assert type(kafka.broker_security()).__name__ == "SASLScram512"
    assert KafkaSettings().broker_security() is None and KafkaSettings().client_options()["security_protocol"] == "PLAINTEXT"
