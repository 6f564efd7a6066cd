"""`horizon bench ingest [--json] [--data DIR] [--rounds N]`: parse and normalise throughput.

Reads every feed file under the publisher set (default `../shared/data/feeds/publishers`,
relative to the project root) into memory, then times, per round, feedparser's parse of each
body and the normalising of its entries into Items. Prints items per second overall and the
share of the time spent inside feedparser.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds" / "publishers"


def measure(bodies: list[tuple[str, bytes]], rounds: int) -> dict[str, float | int]:
    """Time parse (feedparser) and normalise over the bodies, `rounds` times; figures per round."""
    from services.ingest.normalise import Dropped, normalise_entry
    from services.ingest.parser import parse_feed
    from services.ingest.tables import Source

    sources = [Source(id=name, url="bench") for name, _ in bodies]
    parse_s = normalise_s = 0.0
    items = entries = 0
    for _ in range(rounds):
        for source, (_, body) in zip(sources, bodies):
            t0 = time.perf_counter()
            parsed = parse_feed(body)
            t1 = time.perf_counter()
            made = [normalise_entry(e, parsed.feed, source) for e in parsed.entries]
            t2 = time.perf_counter()
            parse_s += t1 - t0
            normalise_s += t2 - t1
            entries += len(parsed.entries)
            items += sum(1 for m in made if not isinstance(m, Dropped))
    total = parse_s + normalise_s
    return {
        "files": len(bodies),
        "rounds": rounds,
        "items": items // rounds,
        "entries": entries // rounds,
        "seconds": round(total / rounds, 4),
        "items_per_s": round(items / total, 1) if total else 0.0,
        "parse_items_per_s": round(items / parse_s, 1) if parse_s else 0.0,
        "normalise_items_per_s": round(items / normalise_s, 1) if normalise_s else 0.0,
        "feedparser_share": round(parse_s / total, 3) if total else 0.0,
    }


def ingest(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data: Annotated[Path, typer.Option(help="Folder of feed files (searched recursively for *.xml).")] = DEFAULT_DATA,
    rounds: Annotated[int, typer.Option(min=1, help="Passes over the set; figures are per pass.")] = 3,
) -> None:
    """Items per second for parse and normalise, and feedparser's share of the time."""
    files = sorted(p for p in Path(data).rglob("*.xml") if p.is_file())
    if not files:
        typer.echo(f"no feed files under {data}", err=True)
        raise typer.Exit(1)
    bodies = [(p.stem, p.read_bytes()) for p in files]
    result = measure(bodies, rounds)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['files']} feeds, {result['items']} items per pass, {result['rounds']} passes")
    typer.echo(f"parse + normalise: {result['items_per_s']} items/s "
               f"(feedparser {result['feedparser_share']:.0%} of the time; "
               f"parse {result['parse_items_per_s']} items/s, normalise {result['normalise_items_per_s']} items/s)")
