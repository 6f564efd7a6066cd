"""Fixtures of the fault suite: its settings, the stack every fault runs against, the summary.

- `fault_settings`: sizes and durations (settings.py; `ci` when CI=true, else `full`).
- `stack`: the suite's own broker, an SMTP server and the four services as processes (stack.py),
  started once for the suite and stopped at its end; each test calls `stack.ensure_up()` first
  (the `up` fixture), so a fault that failed half-way leaves nothing down for the next one.
- `report`: records a fault's row; pytest_terminal_summary prints them all as a table.

Without Java (the suite's broker) the suite is skipped, and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.report import Row, table
from tests.faults.settings import FaultSettings
from tests.faults.stack import Stack

ROWS = pytest.StashKey[list[Row]]()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: the fault suite must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fault_settings() -> FaultSettings:
    return FaultSettings()


@pytest.fixture(scope="session")
def stack(fault_settings: FaultSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("java") is None:
        _unavailable("no Java 17 for the fault suite's own Kafka broker")
    home = tmp_path_factory.mktemp("faults")
    running = Stack(home, fault_settings)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def up(stack: Stack) -> Stack:
    """The stack, whole again (whatever the previous fault left down)."""
    stack.ensure_up()
    return stack


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[Row], None]:
    def record(row: Row) -> None:
        request.config.stash.setdefault(ROWS, []).append(row)

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    rows = config.stash.get(ROWS, [])
    if not rows:
        return
    size = FaultSettings()
    terminalreporter.write_sep("=", f"fault injection: {size.size} size, outages {size.outage_s:.0f} s")
    for line in table(sorted(rows, key=_number)):  # in the order, whatever order the tests ran in
        terminalreporter.write_line(line)
    terminalreporter.write_line("items in/out: works in the run's feeds / classified; matches: delivered / owed; "
                                "duplicates: extra copies the SMTP server accepted (notify's possible_duplicate_sends)")
    target = os.environ.get("HORIZON_FAULTS_REPORT")
    if target:
        Path(target).write_text(json.dumps([r.as_json() for r in rows], indent=2))


def _number(row: Row) -> int:
    """A row's fault number: the label's leading "N." (rows without one go last)."""
    head = row.fault.split(".", 1)[0]
    return int(head) if head.isdigit() else 99
