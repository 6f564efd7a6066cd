"""`horizon bench scale [--subscribers N] [--items M] [--sample K] [--json]`: national scale, measured.

See horizon/bench/scale.py for what is measured and how.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer


def scale(
    subscribers: Annotated[int, typer.Option("--subscribers", min=1, help="Subscribers in the population.")] = 1_000_000,
    items: Annotated[int, typer.Option("--items", min=1, help="Items classified (a peak day is 20,000).")] = 20_000,
    sample: Annotated[int, typer.Option("--sample", min=1, help="Items whose reach is checked exhaustively.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """A realistic national population through classify and notify: reach, throughput, memory."""
    from horizon.bench.scale import run
    from horizon.progress import progress_bars

    with progress_bars() as progress:
        result = run(subscribers=subscribers, items=items, sample=min(sample, items), progress=progress)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:24s} {value}")
