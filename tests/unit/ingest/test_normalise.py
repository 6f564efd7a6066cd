"""Normalising entries: dates with time zones, authors, journal, language, untitled and empty entries."""

from __future__ import annotations

from datetime import datetime, timezone

import feedparser

from services.ingest.normalise import Dropped, normalise_entry
from services.ingest.tables import Source

SOURCE = Source(id="s", url="https://e.example/rss", title="Source", publisher="Fallback Press")


def entries(xml: str):
    doc = feedparser.parse(xml.encode())
    return [normalise_entry(e, doc.feed, SOURCE) for e in doc.entries]


def test_rss_entry_fields():
    [item] = entries("""<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><language>en-GB</language>
      <item><title>A &lt;i&gt;study&lt;/i&gt;</title><link>https://e.example/a?utm_source=x</link>
      <description>&lt;p&gt;Hello&lt;/p&gt;</description><pubDate>Fri, 05 Nov 2021 06:00:00 -0400</pubDate>
      <author>Ann Author</author><dc:source>Journal of Things</dc:source><guid>g1</guid></item></channel></rss>""")
    assert item.title == "A study" and item.summary == "Hello" and item.url == "https://e.example/a"
    assert item.published_at == datetime(2021, 11, 5, 10, 0, tzinfo=timezone.utc)
    assert item.authors == ["Ann Author"] and item.publisher == "Journal of Things" and item.language == "en"
    assert item.guid == "g1" and item.item_id == "url:https://e.example/a" and len(item.content_hash) == 64


def test_foreign_weekday_date_and_fallback_publisher():
    [item] = entries("""<rss version="2.0"><channel><title>Feed title</title><item><title>T</title>
      <link>https://e.example/b</link><pubDate>Mi, 30 Jun 2021 00:00:00 +0000</pubDate></item></channel></rss>""")
    assert item.published_at == datetime(2021, 6, 30, tzinfo=timezone.utc)
    assert item.publisher == "Fallback Press"


def test_untitled_entry_takes_its_text_and_an_empty_one_is_dropped_with_a_reason():
    titled, dropped = entries("""<rss version="2.0"><channel>
      <item><description>Only a description here.</description><guid isPermaLink="false">x1</guid></item>
      <item><category>nothing</category></item></channel></rss>""")
    assert titled.title == "Only a description here." and titled.item_id == "guid:s:x1"
    assert isinstance(dropped, Dropped) and dropped.reason == "empty_entry"


def test_multi_author_wiley_style_and_atom_identifiers():
    [item] = entries("""<feed xmlns="http://www.w3.org/2005/Atom" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">
      <entry><title>X</title><id>https://dx.doi.org/10.4039/TCE.2021.38?rft_dat=source</id>
      <author><name>Werner Greuter,
      Rosa Rankin</name></author><updated>2021-08-11T00:00:00+02:00</updated></entry></feed>""")
    assert item.doi == "10.4039/tce.2021.38" and item.item_id == "doi:10.4039/tce.2021.38"
    assert item.authors == ["Werner Greuter", "Rosa Rankin"]
    assert item.updated_at == datetime(2021, 8, 10, 22, 0, tzinfo=timezone.utc)
