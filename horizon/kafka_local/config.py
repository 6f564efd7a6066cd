"""Pure functions that write the broker's configuration and command lines."""

from __future__ import annotations

import base64
import shutil
import uuid
from pathlib import Path

from horizon.kafka_local.settings import KafkaLocalSettings


def server_properties(host: str, port: int, data_dir: Path) -> str:
    """A single-node KRaft server.properties, tuned to start fast and to suit tests."""
    controller = f"{host}:{port + 1}"
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": controller,
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
