"""Start, stop and look at the broker process: config files, storage format, pid file, readiness.

A secure broker (the default) gets each principal's SCRAM credentials when its storage is
formatted, a config that only admin can read, and, once it answers, the services' ACLs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from horizon.kafka_local.acls import create_acls
from horizon.kafka_local.config import BrokerSecurity, java_command, log4j_properties, new_cluster_id, server_properties
from horizon.kafka_local.credentials import ADMIN, ensure_credentials, principal_settings, scram_arguments, truststore_of
from horizon.kafka_local.jars import fetch_jars
from horizon.kafka_local.settings import BrokerStatus, KafkaLocalSettings, Outcome, tail
from horizon.kafka_local.wire import probe, probe_secure

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
    if settings.secure and (home / "data" / "meta.properties").exists() and not settings.credentials_file.exists():
        return Outcome(False, f"the broker in {home} was formatted without credentials (PLAINTEXT): stop it and "
                              f"remove {home / 'data'} to make it secure, or set HORIZON_KAFKA_SECURE=false")
    credentials = ensure_credentials(settings) if settings.secure else {}
    config = _write_config(settings, credentials.get(ADMIN))
    formatted = _format_storage(settings, config, scram_arguments(credentials))
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


def _write_config(settings: KafkaLocalSettings, admin_password: str | None) -> Path:
    config_dir = settings.home / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "log4j2.properties").write_text(log4j_properties())
    security = None
    if admin_password is not None:
        keystore = None
        if settings.ssl_certfile is not None and settings.ssl_keyfile is not None:
            # Kafka reads a PEM key store as one file: the private key, then the certificate chain
            keystore = config_dir / "broker-keystore.pem"
            _write_private(keystore, settings.ssl_keyfile.read_text() + "\n" + settings.ssl_certfile.read_text())
        security = BrokerSecurity(admin_password, keystore, truststore_of(settings))
    config = config_dir / "server.properties"
    # it holds the admin's password when secure: readable by its owner only
    _write_private(config, server_properties(settings.host, settings.port, settings.home / "data", security))
    return config


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)


def _format_storage(settings: KafkaLocalSettings, config: Path, scram: list[str]) -> Outcome:
    if (settings.home / "data" / "meta.properties").exists():
        return Outcome(True, "storage already formatted")
    cluster_file = settings.home / "cluster.id"
    if not cluster_file.exists():
        cluster_file.write_text(new_cluster_id() + "\n")
    cmd = java_command(settings, "kafka.tools.StorageTool", "format", "-t", cluster_file.read_text().strip(),
                       "-c", str(config), "--standalone", "--ignore-formatted", *scram)  # fmt: skip
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
        if _answers(settings):
            if settings.secure:
                granted = _grant(settings)
                if not granted.ok:
                    return granted
            return Outcome(True, f"running on {settings.bootstrap} ({settings.listener_protocol})", proc.pid)
        time.sleep(0.5)
    log_tail = tail(settings.log_file.read_text(errors="replace"))
    stop(settings)
    return Outcome(False, f"broker not ready within {settings.start_timeout_s:.0f} s; log tail:\n{log_tail}")


def _answers(settings: KafkaLocalSettings) -> bool:
    if not settings.secure:
        return probe(settings.host, settings.port) is not None
    return probe_secure(settings.host, settings.port, principal_settings(settings, ADMIN).ssl_context())


def _grant(settings: KafkaLocalSettings, attempts: int = 20) -> Outcome:
    """The services' ACLs, sent as admin; tried again while the new broker finds its feet."""
    admin = principal_settings(settings, ADMIN)
    for attempt in range(attempts):
        try:
            count = asyncio.run(create_acls(admin))
            return Outcome(True, f"{count} ACLs in place")
        except Exception as exc:  # the authorizer or the metadata may lag the listener by a moment
            if attempt == attempts - 1:
                return Outcome(False, f"could not create the ACLs: {type(exc).__name__}: {exc}")
            log.info("ACLs not created yet; trying again", extra={"error": repr(exc), "attempt": attempt + 1})
            time.sleep(0.5)
    return Outcome(False, "could not create the ACLs")


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
