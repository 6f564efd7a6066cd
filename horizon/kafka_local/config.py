"""Pure functions that write the broker's configuration and command lines."""

from __future__ import annotations

import base64
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from horizon.kafka_local.settings import KafkaLocalSettings


@dataclass(frozen=True)
class BrokerSecurity:
    """What a secure broker needs in its config: the admin's password (the broker signs in as
    admin to its own controller and listener), and for TLS its PEM key store and trust store."""

    admin_password: str
    keystore: Path | None = None  # the broker's private key and certificate chain
    truststore: Path | None = None  # the CA certificates it trusts (its own certificate's, for itself)

    @property
    def listener(self) -> str:
        return "SASL_SSL" if self.keystore is not None else "SASL_PLAINTEXT"


def server_properties(host: str, port: int, data_dir: Path, security: BrokerSecurity | None = None) -> str:
    """A single-node KRaft server.properties, tuned to start fast and to suit tests; with
    `security`, clients sign in with SCRAM and the StandardAuthorizer's ACLs decide what each may do."""
    controller = f"{host}:{port + 1}"
    listener = security.listener if security else "PLAINTEXT"
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": controller,
        "listeners": f"{listener}://{host}:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"{listener}://{host}:{port},CONTROLLER://{controller}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": listener,
        "listener.security.protocol.map": f"{listener}:{listener},CONTROLLER:{'SASL_PLAINTEXT' if security else 'PLAINTEXT'}",
        **(_security_properties(security) if security else {}),
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "auto.create.topics.enable": "true",  # the dead-letter topics appear on first use
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "share.coordinator.state.topic.num.partitions": "1",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "log.retention.hours": "168",
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _security_properties(security: BrokerSecurity) -> dict[str, str]:
    """SCRAM on the client port (its credentials stored in the metadata log at format time),
    PLAIN on the controller port (SCRAM cannot authenticate the controller's own connections: the
    credentials live in the log the controller serves), admin a super user, everyone else
    limited to what ACLs allow."""
    password = security.admin_password
    listener = security.listener.lower()
    scram = f'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="{password}";'
    props = {
        "sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config":
            f'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" '
            f'password="{password}" user_admin="{password}";',
        f"listener.name.{listener}.scram-sha-256.sasl.jaas.config": scram,
        f"listener.name.{listener}.scram-sha-512.sasl.jaas.config": scram,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:admin",
        "allow.everyone.if.no.acl.found": "false",
    }
    if security.keystore is not None:
        props |= {"ssl.keystore.type": "PEM", "ssl.keystore.location": str(security.keystore),
                  "ssl.truststore.type": "PEM", "ssl.truststore.location": str(security.truststore)}
    return props


def log4j_properties() -> str:
    """log4j2 config: INFO to stdout (which `start` sends to the log file); chatty loggers at WARN."""
    return (
        "status = warn\n"
        "appender.out.type = Console\n"
        "appender.out.name = OUT\n"
        "appender.out.layout.type = PatternLayout\n"
        "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
        "rootLogger.level = INFO\n"
        "rootLogger.appenderRef.out.ref = OUT\n"
        "logger.request.name = kafka.request.logger\n"
        "logger.request.level = WARN\n"
        "logger.state.name = state.change.logger\n"
        "logger.state.level = WARN\n"
    )


def java_command(settings: KafkaLocalSettings, main_class: str, *args: str) -> list[str]:
    """The java command line that runs one of Kafka's main classes on the cached class path."""
    return [
        shutil.which("java") or "java",
        f"-Xmx{settings.heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={settings.home / 'config' / 'log4j2.properties'}",
        "-cp",
        str(settings.lib_dir / "*"),
        main_class,
        *args,
    ]


def new_cluster_id() -> str:
    """A Kafka-style cluster id: 16 random bytes, URL-safe base64, never starting with '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid
