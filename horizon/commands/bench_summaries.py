"""`horizon bench summaries [--json] [--data DIR]`: do digest summaries carry the finding?

Reads every feed file under the publisher set (default `../shared/data/feeds/publishers`,
relative to the project root), makes Items of the entries as ingest does (one per item id), and
for each item that bears an abstract (200 characters or more and two sentences, once the feed's
front matter is gone) checks whether the summary notify shows holds one of the abstract's result
or conclusion sentences: one under a RESULTS or CONCLUSIONS heading, one whose words report a
finding (an effect estimate, an interval, "reduced", "we found", "in conclusion"...), or an
unstructured abstract's closing sentence. The same test of the first three sentences is the
baseline. `strict` leaves the closing sentence out, counting headings and words only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds" / "publishers"
MIN_CHARS = 200


def items_of(files: list[Path]) -> list:
    """The feeds' items, once each, as ingest normalises them."""
    from services.ingest.normalise import Dropped, normalise_entry
    from services.ingest.parser import parse_feed
    from services.ingest.tables import Source

    seen: dict[str, object] = {}
    for path in files:
        parsed = parse_feed(path.read_bytes())
        source = Source(id=path.stem, url="bench")
        for entry in parsed.entries:
            item = normalise_entry(entry, parsed.feed, source)
            if not isinstance(item, Dropped):
                seen.setdefault(item.item_id, item)
    return list(seen.values())


def measure(items: list) -> dict[str, float | int]:
    from services.notify.summary import abstract_body, finding_score, holds_finding, split, summarise

    bearing = held = strict = baseline = 0
    for item in items:
        body = abstract_body(item.summary)
        parts = split(body)
        if len(body) < MIN_CHARS or len(parts) < 2:
            continue
        bearing += 1
        summary = summarise(item.summary, "article")
        held += holds_finding(item.summary, summary)
        strict += any(s.text in summary for s in parts
                      if (s.role in ("results", "conclusions")) or (not s.role and finding_score(s.text) >= 1.5))
        baseline += holds_finding(item.summary, " ".join(s.text for s in parts[:3]))
    share = (lambda n: round(n / bearing, 3) if bearing else 0.0)
    return {"items": len(items), "abstracts": bearing, "with_finding": held, "share": share(held),
            "share_strict": share(strict), "share_first_sentences": share(baseline)}


def summaries(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data: Annotated[Path, typer.Option(help="Folder of feed files (searched recursively for *.xml).")] = DEFAULT_DATA,
) -> None:
    """The share of abstract-bearing items whose summary holds a result or conclusion sentence."""
    files = sorted(p for p in Path(data).rglob("*.xml") if p.is_file())
    if not files:
        typer.echo(f"no feed files under {data}", err=True)
        raise typer.Exit(1)
    result = measure(items_of(files))
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['items']} items, {result['abstracts']} with an abstract")
    typer.echo(f"summary holds a result or conclusion: {result['with_finding']}/{result['abstracts']} = "
               f"{result['share']:.1%} (headings and finding words only: {result['share_strict']:.1%}; "
               f"first three sentences: {result['share_first_sentences']:.1%})")
