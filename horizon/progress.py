"""Progress of long work on a terminal (rich), and nothing where no one is watching."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

Progress = Callable[[str, int, int], None]  # (step, done, total); total 0: a step without a count


@contextmanager
def progress_bars(enabled: bool | None = None) -> Iterator[Progress]:
    """A callback that shows one bar per step on stderr while the block runs (when stderr is a
    terminal, unless told otherwise)."""
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield lambda step, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

    bars = Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=False)
    tasks: dict[str, int] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=total or None)
        bars.update(tasks[step], completed=min(done, total) if total else done)

    with bars:
        yield update
