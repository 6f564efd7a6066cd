"""One service as a real process: started as production starts it, killed as a crash kills it.

`faststream run services.<name>.main:app`, in a session (process group) of its own, its output
appended to a log file. `kill` is SIGKILL to the group: no shutdown hook runs, nothing is
flushed. `freeze`/`thaw` pause it (SIGSTOP/SIGCONT) so that a test can look at what it has done
so far before the kill lands. `stop` is the clean shutdown (SIGTERM, then SIGKILL after a grace).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


class Service:
    """A service process that can be started, killed and started again, keeping its log."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, health_url: str, cwd: Path) -> None:
        self.name = name
        self.cwd = cwd
        self.env = env
        self.log_path = log_path
        self.health_url = health_url
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", "faststream", "run", f"services.{self.name}.main:app"]

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.alive():
            return
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.cwd, start_new_session=True)

    def wait_healthy(self, timeout_s: float) -> None:
        """Until the process answers on its health endpoint (it has started its app)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.proc.returncode if self.proc else None}:\n"
                                     f"{self.tail()}")
            try:
                if httpx.get(self.health_url, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{self.name} not healthy within {timeout_s:.0f} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would end it."""
        if self.proc is None:
            return
        self.kills += 1
        self._signal(signal.SIGKILL)
        self.proc.wait()

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self, grace_s: float = 30.0) -> None:
        if not self.alive():
            return
        self._signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
