"""`horizon bench ingest`: its figures are consistent with the feeds it read."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from horizon.commands.bench import app as bench_cli


def test_bench_json_counts_every_item_of_the_set(feeds_dir):
    result = CliRunner().invoke(bench_cli, ["ingest", "--json", "--rounds", "1",
                                            "--data", str(feeds_dir / "publishers" / "examples")])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    with open(feeds_dir / "publishers" / "MANIFEST.tsv", encoding="utf-8") as fh:
        rows = [line.split("\t") for line in fh.read().splitlines()[1:]]
    expected = sum(int(r[4]) for r in rows if r[0].startswith("publishers/examples/"))
    assert figures["files"] == 24 and figures["items"] == figures["entries"] == expected
    assert figures["items_per_s"] > 0 and 0 < figures["feedparser_share"] < 1
