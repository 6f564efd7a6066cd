"""Kafka's runtime class path, copied once from Maven Central into a cache outside the clone."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess

from horizon.kafka_local.settings import COMPLETE_MARKER, KAFKA_VERSION, POM, KafkaLocalSettings, Outcome, tail

log = logging.getLogger(__name__)


def fetch_jars(settings: KafkaLocalSettings) -> Outcome:
    """Copy Kafka's runtime jars from Maven Central into the cache, unless already there."""
    lib = settings.lib_dir
    if (lib / COMPLETE_MARKER).exists():
        return Outcome(True, f"jars present in {lib}")
    mvn = shutil.which("mvn")
    if mvn is None:
        return Outcome(False, "Maven (mvn) is not on PATH; install the Debian package `maven`")
    lib.parent.mkdir(parents=True, exist_ok=True)
    with open(lib.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions may fetch at once
        if (lib / COMPLETE_MARKER).exists():
            return Outcome(True, f"jars present in {lib}")
        tmp = lib.parent / f"lib.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
               "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"]  # fmt: skip
        log.info("fetching Kafka jars", extra={"version": KAFKA_VERSION, "lib": str(lib)})
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
        if done.returncode != 0 or not any(tmp.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
            shutil.rmtree(tmp, ignore_errors=True)
            return Outcome(False, f"mvn failed ({done.returncode}):\n{tail(done.stdout + done.stderr)}")
        (tmp / COMPLETE_MARKER).write_text(KAFKA_VERSION + "\n")
        shutil.rmtree(lib, ignore_errors=True)
        tmp.rename(lib)
    return Outcome(True, f"jars fetched into {lib}")
