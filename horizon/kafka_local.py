"""The local single-node Apache Kafka broker (KRaft), run from Maven Central jars with Java 17.

`fetch_jars` copies Kafka's runtime class path into a cache outside the clone (once);
`start` writes the broker's config into a state folder, formats its storage once, launches
`java ... kafka.Kafka` detached with a pid file and a log file, and waits until the port
answers a metadata request; `stop` sends SIGTERM and waits; `status` reads the pid file.
Expected failures (no Java, Maven failed, broker died, port taken) come back as `Outcome`
values with the reason and the log tail; the CLI turns them into exit codes.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import PARTITIONS

log = logging.getLogger(__name__)

KAFKA_VERSION = "4.1.1"
POM = Path(__file__).resolve().parents[1] / "deploy" / "kafka" / "pom.xml"
_COMPLETE = ".complete"


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "horizon"


class KafkaLocalSettings(BaseSettings):
    """Where the local broker keeps its jars and state, and how it listens."""

    model_config = SettingsConfigDict(env_prefix="HORIZON_KAFKA_")

    home: Path = Field(default=Path("var/kafka"), description="State folder: config, data, logs, pid file.")
    port: int = Field(default=9092, description="Client port on 127.0.0.1; the controller listens on port+1.")
    host: str = Field(default="127.0.0.1", description="Address both listeners bind and advertise.")
    cache_dir: Path = Field(default_factory=_default_cache, description="Cache root for the jars.")
    heap: str = Field(default="512m", description="Java maximum heap (-Xmx).")
    start_timeout_s: float = Field(default=90.0, description="How long `start` waits for the broker.")
    stop_timeout_s: float = Field(default=60.0, description="How long `stop` waits after SIGTERM.")

    @property
    def lib_dir(self) -> Path:
        return self.cache_dir / f"kafka-{KAFKA_VERSION}" / "lib"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"


@dataclass(frozen=True)
class Outcome:
    """What a fetch/start/stop did: ok or not, and why."""

    ok: bool
    message: str
    pid: int | None = None


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str


# --- pure: configuration -----------------------------------------------------------------


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


# --- pure: the Kafka wire protocol, just enough for a readiness probe ------------------------


def metadata_request(correlation_id: int, client_id: str = "horizon-probe") -> bytes:
    """A Metadata v4 request for all topics (v4 is the oldest version Kafka 4 still accepts)."""
    cid = client_id.encode()
    body = struct.pack(">hhih", 3, 4, correlation_id, len(cid)) + cid + struct.pack(">ib", -1, 0)
    return struct.pack(">i", len(body)) + body


def metadata_broker_count(payload: bytes, correlation_id: int) -> int:
    """The number of brokers in a Metadata v4 response body (without its size prefix)."""
    got, _throttle, brokers = struct.unpack_from(">iii", payload, 0)
    if got != correlation_id:
        raise ValueError(f"correlation id {got} != {correlation_id}")
    return brokers


# --- I/O ----------------------------------------------------------------------------------


def fetch_jars(settings: KafkaLocalSettings) -> Outcome:
    """Copy Kafka's runtime jars from Maven Central into the cache, unless already there."""
    lib = settings.lib_dir
    if (lib / _COMPLETE).exists():
        return Outcome(True, f"jars present in {lib}")
    mvn = shutil.which("mvn")
    if mvn is None:
        return Outcome(False, "Maven (mvn) is not on PATH; install the Debian package `maven`")
    lib.parent.mkdir(parents=True, exist_ok=True)
    with open(lib.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions may fetch at once
        if (lib / _COMPLETE).exists():
            return Outcome(True, f"jars present in {lib}")
        tmp = lib.parent / f"lib.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
               "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"]  # fmt: skip
        log.info("fetching Kafka jars", extra={"version": KAFKA_VERSION, "lib": str(lib)})
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
        if done.returncode != 0 or not any(tmp.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
            shutil.rmtree(tmp, ignore_errors=True)
            return Outcome(False, f"mvn failed ({done.returncode}):\n{_tail(done.stdout + done.stderr)}")
        (tmp / _COMPLETE).write_text(KAFKA_VERSION + "\n")
        shutil.rmtree(lib, ignore_errors=True)
        tmp.rename(lib)
    return Outcome(True, f"jars fetched into {lib}")


def status(settings: KafkaLocalSettings) -> BrokerStatus:
    pid = _read_pid(settings.pid_file)
    running = pid is not None and _alive(pid)
    return BrokerStatus(running, pid if running else None, settings.bootstrap)


def start(settings: KafkaLocalSettings) -> Outcome:
    """Start the broker detached and wait until it answers; a running broker is left alone."""
    current = status(settings)
    if current.running:
        return Outcome(True, f"already running on {settings.bootstrap}", current.pid)
    if shutil.which("java") is None:
        return Outcome(False, "Java 17+ is not on PATH; install openjdk-17-jre-headless")
    for port in (settings.port, settings.port + 1):
        if _port_open(settings.host, port):
            return Outcome(False, f"port {settings.host}:{port} is already in use by another process")
    fetched = fetch_jars(settings)
    if not fetched.ok:
        return fetched
    home = settings.home.resolve()
    settings = settings.model_copy(update={"home": home})
    config = _write_config(settings)
    formatted = _format_storage(settings, config)
    if not formatted.ok:
        return formatted
    settings.log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(settings.log_file, "wb") as out:
        proc = subprocess.Popen(
            java_command(settings, "kafka.Kafka", str(config)),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=home, start_new_session=True,
        )  # fmt: skip
    settings.pid_file.write_text(f"{proc.pid}\n")
    log.info("kafka starting", extra={"pid": proc.pid, "bootstrap": settings.bootstrap})
    return _wait_ready(settings, proc)


def stop(settings: KafkaLocalSettings) -> Outcome:
    """SIGTERM the broker and wait for it to exit (SIGKILL after the time limit)."""
    pid = _read_pid(settings.pid_file)
    if pid is None or not _alive(pid):
        settings.pid_file.unlink(missing_ok=True)
        return Outcome(True, "not running")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + settings.stop_timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    message = "stopped"
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        message = f"did not stop within {settings.stop_timeout_s:.0f} s; killed"
        while _alive(pid):
            time.sleep(0.1)
    settings.pid_file.unlink(missing_ok=True)
    return Outcome(True, message, pid)


async def create_topics(bootstrap: str, partitions: dict[str, int] = PARTITIONS) -> dict[str, str]:
    """Create the project's topics with their partition counts; say per topic what happened."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="horizon-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, n, 1) for t, n in partitions.items() if t not in existing]
        if missing:
            await admin.create_topics(missing, timeout_ms=30_000)
        return {t: ("exists" if t in existing else "created") for t in partitions}
    finally:
        await admin.close()


def ensure_topics(bootstrap: str) -> dict[str, str]:
    """`create_topics` for synchronous callers (the CLI, fixtures)."""
    return asyncio.run(create_topics(bootstrap))


def probe(host: str, port: int, timeout_s: float = 2.0) -> int | None:
    """The broker count a Metadata request returns, or None when the port does not answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(metadata_request(7))
            (size,) = struct.unpack(">i", _recv(sock, 4))
            return metadata_broker_count(_recv(sock, size), 7)
    except (OSError, ValueError, struct.error):
        return None


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def _write_config(settings: KafkaLocalSettings) -> Path:
    config_dir = settings.home / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "log4j2.properties").write_text(log4j_properties())
    config = config_dir / "server.properties"
    config.write_text(server_properties(settings.host, settings.port, settings.home / "data"))
    return config


def _format_storage(settings: KafkaLocalSettings, config: Path) -> Outcome:
    if (settings.home / "data" / "meta.properties").exists():
        return Outcome(True, "storage already formatted")
    cluster_file = settings.home / "cluster.id"
    if not cluster_file.exists():
        cluster_file.write_text(new_cluster_id() + "\n")
    cmd = java_command(settings, "kafka.tools.StorageTool", "format", "-t", cluster_file.read_text().strip(),
                       "-c", str(config), "--standalone", "--ignore-formatted")  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if done.returncode != 0:
        return Outcome(False, f"formatting storage failed ({done.returncode}):\n{_tail(done.stdout + done.stderr)}")
    return Outcome(True, "storage formatted")


def _wait_ready(settings: KafkaLocalSettings, proc: subprocess.Popen[bytes]) -> Outcome:
    deadline = time.monotonic() + settings.start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            settings.pid_file.unlink(missing_ok=True)
            log_tail = _tail(settings.log_file.read_text(errors="replace"))
            return Outcome(False, f"broker exited with code {proc.returncode}; log tail:\n{log_tail}")
        if probe(settings.host, settings.port):
            return Outcome(True, f"running on {settings.bootstrap}", proc.pid)
        time.sleep(0.5)
    log_tail = _tail(settings.log_file.read_text(errors="replace"))
    stop(settings)
    return Outcome(False, f"broker not ready within {settings.start_timeout_s:.0f} s; log tail:\n{log_tail}")


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """True if `pid` is a live Kafka broker (reaps it first if it is our own exited child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: the broker was started by another process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # guard against a reused pid
        return b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return False


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
