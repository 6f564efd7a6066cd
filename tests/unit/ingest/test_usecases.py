"""ingest_feed over a fake store: new items once, revisions as updates, one work across sources, lost claims."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from contracts import ContentType
from services.ingest.tables import Source
from services.ingest.usecases import ClaimContended, ingest_feed

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
TITLE = "Apixaban versus warfarin for stroke prevention in atrial fibrillation: a randomised trial"


def rss(*items: str) -> bytes:
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "<channel><title>T</title>" + "".join(items) + "</channel></rss>").encode()


def item(title: str, link: str, desc: str = "An abstract.", extra: str = "") -> str:
    return f"<item><title>{title}</title><link>{link}</link><description>{desc}</description>{extra}</item>"


JOURNAL = Source(id="journal", url="https://j.example/rss", title="Journal")
PUBMED = Source(id="pubmed", url="https://p.example/rss", title="Search")
GUIDES = Source(id="guides", url="https://g.example/rss", content_type=ContentType.guideline)


def test_a_repoll_publishes_nothing_and_a_new_entry_alone(seen):
    first = ingest_feed(JOURNAL, rss(item("A long enough title number one here", "https://j.example/1")), seen, NOW)
    assert [e.item.item_id for e in first.events] == ["url:https://j.example/1"]
    assert first.events[0].revision == 0 and first.events[0].producer == "ingest"
    body = rss(item("A long enough title number one here", "https://j.example/1"),
               item("Another quite different second title", "https://j.example/2"))
    second = ingest_feed(JOURNAL, body, seen, NOW)
    assert [e.item.item_id for e in second.events] == ["url:https://j.example/2"]


def test_a_revised_guideline_is_an_update_with_the_next_revision(seen):
    v1 = ingest_feed(GUIDES, rss(item("Heart failure guideline", "https://g.example/ng1", "Old text")), seen, NOW)
    v2 = ingest_feed(GUIDES, rss(item("Heart failure guideline", "https://g.example/ng1", "New text")), seen, NOW)
    assert [(e.item.item_id, e.revision) for e in v2.events] == [("url:https://g.example/ng1", 1)]
    assert v2.events[0].item.content_type is ContentType.guideline
    assert v2.events[0].event_id != v1.events[0].event_id
    assert ingest_feed(GUIDES, rss(item("Heart failure guideline", "https://g.example/ng1", "New text")),
                       seen, NOW).events == []


def test_same_doi_in_two_sources_is_one_item(seen):
    doi = "<dc:identifier>doi:10.5555/abc.1</dc:identifier>"
    a = ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/a", "Journal abstract", doi)), seen, NOW)
    b = ingest_feed(PUBMED, rss(item(TITLE + ".", "https://p.example/9", "PubMed abstract", doi)), seen, NOW)
    assert [e.item.item_id for e in a.events] == ["doi:10.5555/abc.1"]
    assert b.events == [] and b.sighted == 1 and seen.sighting("doi:10.5555/abc.1", "pubmed") is not None
    # the journal re-polled with its own text still unchanged: no flip-flop between sources' texts
    assert ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/a", "Journal abstract", doi)), seen, NOW).events == []


def test_near_duplicate_title_across_sources_is_one_work_but_not_within_a_source(seen):
    a = ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/a", extra="<dc:identifier>doi:10.5555/x</dc:identifier>")),
                    seen, NOW)
    pubmed_title = "Apixaban versus Warfarin for stroke prevention in atrial fibrillation - a randomised trial."
    b = ingest_feed(PUBMED, rss(item(pubmed_title, "https://pubmed.ncbi.nlm.nih.gov/123/")), seen, NOW)
    assert b.events == [] and b.sighted == 1 and seen.alias_of("pmid:123") == "doi:10.5555/x"
    assert seen.sighting("doi:10.5555/x", "pubmed") is not None
    again = ingest_feed(PUBMED, rss(item(pubmed_title, "https://pubmed.ncbi.nlm.nih.gov/123/")), seen, NOW)
    assert again.events == []
    same_source = ingest_feed(JOURNAL, rss(item(TITLE + " (part 2)", "https://j.example/b")), seen, NOW)
    assert len(same_source.events) == 1


def test_different_dois_are_different_works_even_with_the_same_title(seen):
    a = ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/a", extra="<dc:identifier>doi:10.5555/x</dc:identifier>")),
                    seen, NOW)
    b = ingest_feed(PUBMED, rss(item(TITLE, "https://p.example/b", extra="<dc:identifier>doi:10.5555/y</dc:identifier>")),
                    seen, NOW)
    assert [e.item.item_id for e in b.events] == ["doi:10.5555/y"]


def test_an_entry_repeated_within_one_feed_is_published_once(seen):
    body = rss(item("Same entry twice in one feed body", "https://j.example/1"),
               item("Same entry twice in one feed body", "https://j.example/1"))
    out = ingest_feed(JOURNAL, body, seen, NOW)
    assert len(out.events) == 1 and out.entries == 2


def test_html_page_and_empty_body_are_named_errors(seen):
    page = b"<!DOCTYPE html><html><head><title>Validate User</title></head><body>captcha</body></html>"
    out = ingest_feed(JOURNAL, page, seen, NOW)
    assert out.error is not None and out.error.kind == "html_page" and "Validate User" in out.error.message
    assert ingest_feed(JOURNAL, b"  ", seen, NOW).error.kind == "empty_body"
    assert ingest_feed(JOURNAL, b"<PubmedArticleSet/>", seen, NOW).error.kind == "not_a_feed"


def test_a_bozo_feed_keeps_its_entries_and_records_the_problem(seen):
    body = rss(item("Broken &nbsp feed entry title", "https://j.example/1")).replace(b"</channel></rss>", b"")
    out = ingest_feed(JOURNAL, body, seen, NOW)
    assert len(out.events) == 1 and out.warning is not None and out.warning.kind == "bozo"


def _interleave(seen, source, body):
    """Make another poller ingest `body` of `source` right before this caller's next claim."""
    def other_writer(decision):
        seen.before_claim = None
        seen.other = ingest_feed(source, body, seen, NOW)
    seen.before_claim = other_writer


def test_a_claim_lost_to_another_source_with_the_same_doi_becomes_a_sighting(seen):
    doi = "<dc:identifier>doi:10.5555/race.1</dc:identifier>"
    _interleave(seen, PUBMED, rss(item(TITLE, "https://p.example/1", "PubMed abstract", doi)))
    mine = ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/1", "Journal abstract", doi)), seen, NOW)
    assert [e.item.item_id for e in seen.other.events] == ["doi:10.5555/race.1"]
    assert mine.events == [] and mine.sighted == 1
    assert seen.sighting("doi:10.5555/race.1", "journal") is not None
    assert list(seen.outbox) == [seen.other.events[0].event_id]  # only the winner's event waits to be published


def test_a_claim_lost_to_a_near_duplicate_title_becomes_a_sighting_under_an_alias(seen):
    _interleave(seen, PUBMED, rss(item(TITLE + ".", "https://pubmed.ncbi.nlm.nih.gov/77/")))
    mine = ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/1", extra="<dc:identifier>doi:10.5555/r2</dc:identifier>")),
                       seen, NOW)
    assert [e.item.item_id for e in seen.other.events] == ["pmid:77"]
    assert mine.events == [] and seen.alias_of("doi:10.5555/r2") == "pmid:77"


def test_a_revision_lost_to_another_sources_revision_takes_the_next_number(seen):
    doi = "<dc:identifier>doi:10.5555/rev</dc:identifier>"
    ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/1", "v0", doi)), seen, NOW)
    ingest_feed(PUBMED, rss(item(TITLE, "https://p.example/1", "v0", doi)), seen, NOW)
    _interleave(seen, PUBMED, rss(item(TITLE, "https://p.example/1", "pubmed v1", doi)))
    mine = ingest_feed(JOURNAL, rss(item(TITLE, "https://j.example/1", "journal v1", doi)), seen, NOW)
    assert [e.revision for e in seen.other.events] == [1]
    assert [e.revision for e in mine.events] == [2]  # as if the two polls had run one after the other


def test_a_claim_lost_again_and_again_fails_the_poll(seen):
    seen.claim = lambda *args, **kwargs: False
    with pytest.raises(ClaimContended):
        ingest_feed(JOURNAL, rss(item("A long enough title number one here", "https://j.example/1")), seen, NOW)


def test_claimed_events_wait_in_the_outbox_until_published(seen):
    out = ingest_feed(JOURNAL, rss(item("A long enough title number one here", "https://j.example/1")), seen, NOW)
    assert list(seen.outbox) == [out.events[0].event_id]
    seen.published([e.event_id for e in out.events])
    assert seen.outbox == {}
