"""Every real publisher feed and every feedparser corpus file: items or one named error, never a crash."""

from __future__ import annotations

import csv
import json
import logging
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from services.ingest.errors import ErrorKind
from services.ingest.normalise import normalise_entry
from services.ingest.parser import parse_feed
from services.ingest.tables import Source
from services.ingest.usecases import parse_items

log = logging.getLogger(__name__)

#: The only reason an entry may be dropped: nothing a reader could use (no title, text, link).
ALLOWED_DROPS = {"empty_entry"}
_DOI = re.compile(r"\b10\.\d{4,9}/\S")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _parse(path: Path):
    return parse_items(path.read_bytes(), Source(id=path.stem, url=path.as_uri(), title=path.stem))


def test_every_corpus_file_gives_items_or_one_named_error(feeds_dir):
    files = _files(feeds_dir / "feedparser-corpus")
    assert len(files) > 2000
    errors, items = 0, 0
    for path in files:
        result = _parse(path)  # must not raise
        if result.error:
            errors += 1
            assert isinstance(result.error.kind, ErrorKind) and result.error.message, path
            assert not result.items
            continue
        assert len(result.items) + len(result.dropped) == result.entries, path
        assert {d.reason for d in result.dropped} <= ALLOWED_DROPS, path
        items += len(result.items)
        for item in result.items:
            assert item.title and "<script" not in item.summary.lower() and item.item_id, path
    assert items > 500 and errors < 20


def _manifest(feeds_dir: Path) -> list[dict[str, str]]:
    with open(feeds_dir / "publishers" / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_publisher_item_counts_agree_with_the_manifest(feeds_dir):
    rows = _manifest(feeds_dir)
    assert len(rows) == 58
    for row in rows:
        path = feeds_dir / row["file"]
        result = _parse(path)
        if row["feedparser_version"] == "-":
            # the HTML bot-check page saved as .xml and a PubMed XML record set: not feeds
            assert result.error is not None and result.error.kind in (ErrorKind.html_page, ErrorKind.not_a_feed)
            continue
        assert result.error is None, (path, result.error)
        assert len(result.items) == int(row["entries"]), path
        assert not result.dropped, path


def test_bot_check_page_is_named_html_page(feeds_dir):
    result = _parse(feeds_dir / "publishers" / "2021-11-24" / "e379dc5d4d4c416ee999e4b32339d5e8.xml")
    assert result.error is not None and result.error.kind is ErrorKind.html_page


def test_doi_and_pmid_found_wherever_the_feed_carries_them(feeds_dir):
    """An entry carries a DOI if any of its raw fields holds one; each such item must have it."""
    carrying, found, items_total, pubmed = 0, 0, 0, []
    for path in sorted((feeds_dir / "publishers").rglob("*.xml")):
        parsed = parse_feed(path.read_bytes())
        source = Source(id=path.stem, url="x")
        for entry in parsed.entries:
            item = normalise_entry(entry, parsed.feed, source)
            items_total += 1
            if _DOI.search(unquote(json.dumps(entry, default=str))):
                carrying += 1
                found += bool(item.doi)
            if "pubmed.ncbi.nlm.nih.gov" in item.url:
                pubmed.append(item)
    rate = found / carrying
    print(f"\nDOI found for {found}/{carrying} ({rate:.1%}) publisher entries that carry one "
          f"({items_total} entries in all); PMID for {sum(1 for i in pubmed if i.pmid)}/{len(pubmed)} PubMed items")
    assert carrying > 1000 and rate == 1.0
    assert pubmed and all(i.pmid for i in pubmed)


@pytest.mark.parametrize("name", ["canent.xml", "taxon.xml", "native-pubmed.xml", "phytokeys.xml", "ajh.xml"])
def test_publisher_shapes_give_dois(feeds_dir, name):
    items = _parse(feeds_dir / "publishers" / "examples" / name).items
    assert items and all(i.doi for i in items)
