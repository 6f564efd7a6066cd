"""OPML content-type attributes, folders and round trip; local sources from a folder or an OPML file."""

from __future__ import annotations

from contracts import ContentType
from services.ingest.local import ingest_local, load_local_sources
from services.ingest.opml import parse_opml, render_opml

OPML = b"""<?xml version="1.0"?>
<opml version="2.0" xmlns:horizon="https://horizon.nhs/opml"><head><title>x</title></head><body>
  <outline text="a" xmlUrl="a.xml" horizon:contentType="safety_alert" category="guideline"/>
  <outline text="b" xmlUrl="https://b.example/rss" category="/nhs/guideline"/>
  <outline text="Policy"><outline text="c" xmlUrl="https://c.example/rss" horizon:pollInterval="7200"/></outline>
  <outline text="d" xmlUrl="https://d.example/rss" horizon:enabled="false" horizon:id="dee"/>
</body></opml>"""


def test_content_type_from_attribute_category_or_folder():
    outlines = parse_opml(OPML)
    assert [o.content_type for o in outlines] == [ContentType.safety_alert, ContentType.guideline,
                                                  ContentType.policy, ContentType.journal_article]
    assert outlines[2].poll_interval_s == 7200 and outlines[3].enabled is False and outlines[3].source_id == "dee"
    assert parse_opml(render_opml(outlines).encode()) == outlines


def test_local_folder_and_opml_give_the_same_typed_sources(tmp_path, seen):
    feed = b'<rss version="2.0"><channel><item><title>Alert one</title><link>https://a.example/1</link></item></channel></rss>'
    (tmp_path / "a.xml").write_bytes(feed)
    (tmp_path / "sources.opml").write_bytes(OPML.replace(b"https://b.example/rss", b"b.xml"))
    (tmp_path / "b.xml").write_bytes(b"<html><body>blocked</body></html>")
    (tmp_path / "notes.txt").write_text("not a feed")
    folder = load_local_sources(tmp_path)
    assert [(s.id, s.content_type) for s in folder] == [("a", ContentType.safety_alert), ("b", ContentType.guideline)]
    assert folder[0].url == (tmp_path / "a.xml").as_uri()
    from_opml = load_local_sources(tmp_path / "sources.opml")
    assert [s.id for s in from_opml][:2] == ["a", "b"]
    result = ingest_local(tmp_path, seen)
    assert [e.item.content_type for e in result.events] == [ContentType.safety_alert]
    assert [(e.source_id, e.error.kind) for e in result.errors] == [("b", "html_page")]
    assert ingest_local(tmp_path, seen).events == []
