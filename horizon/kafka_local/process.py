"""Start, stop and look at the broker process: config files, storage format, pid file, readiness."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from horizon.kafka_local.config import java_command, log4j_properties, new_cluster_id, server_properties
from horizon.kafka_local.jars import fetch_jars
from horizon.kafka_local.settings import BrokerStatus, KafkaLocalSettings, Outcome, tail
from horizon.kafka_local.wire import probe

log = logging.getLogger(__name__)


def status(settings: KafkaLocalSettings) -> BrokerStatus:
    """Whether the broker of this state folder runs (by its pid file), and where it listens."""
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
        return Outcome(False, f"formatting storage failed ({done.returncode}):\n{tail(done.stdout + done.stderr)}")
    return Outcome(True, "storage formatted")


def _wait_ready(settings: KafkaLocalSettings, proc: subprocess.Popen[bytes]) -> Outcome:
    deadline = time.monotonic() + settings.start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            settings.pid_file.unlink(missing_ok=True)
            log_tail = tail(settings.log_file.read_text(errors="replace"))
            return Outcome(False, f"broker exited with code {proc.returncode}; log tail:\n{log_tail}")
        if probe(settings.host, settings.port):
            return Outcome(True, f"running on {settings.bootstrap}", proc.pid)
        time.sleep(0.5)
    log_tail = tail(settings.log_file.read_text(errors="replace"))
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
