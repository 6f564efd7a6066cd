"""Every XML document ingest reads goes through one hardened parser, whatever its encoding:
entity declarations are refused (no expansion bombs), OPML bodies are size-limited."""

from __future__ import annotations

import pytest

from services.ingest import xmlsafe
from services.ingest.opml import MAX_OPML_BYTES, OpmlError, parse_opml
from services.ingest.parser import parse_feed

LAUGHS = """<?xml version="1.0" encoding="{enc}"?>
<!DOCTYPE opml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<opml version="2.0"><head/><body><outline text="&c;" title="&c;" xmlUrl="https://a.example/rss"/></body></opml>
"""
PLAIN = """<?xml version="1.0" encoding="{enc}"?>
<opml version="2.0"><head/><body><outline title="Caf\u00e9 r\u00e9sum\u00e9" xmlUrl="https://a.example/rss"/></body></opml>
"""

# how an attacker may write the same document: the check must read what the parser reads
ENCODINGS = [
    ("utf-8", lambda s: s.encode("utf-8")),
    ("UTF-16", lambda s: s.encode("utf-16")),  # with a BOM
    ("UTF-16", lambda s: s.encode("utf-16-le")),  # no BOM, little-endian
    ("UTF-16", lambda s: s.encode("utf-16-be")),  # no BOM, big-endian
    ("utf-32", lambda s: s.encode("utf-32")),
    ("ISO-8859-1", lambda s: s.encode("iso-8859-1")),
]


@pytest.mark.parametrize(("enc", "encode"), ENCODINGS)
def test_the_entity_bomb_is_refused_in_every_encoding(enc, encode):
    with pytest.raises(OpmlError, match="entity"):
        parse_opml(encode(LAUGHS.format(enc=enc)))


@pytest.mark.parametrize(("enc", "encode"), ENCODINGS)
def test_a_plain_document_reads_the_same_in_every_encoding(enc, encode):
    [outline] = parse_opml(encode(PLAIN.format(enc=enc)))
    assert outline.title == "Café résumé" and outline.xml_url == "https://a.example/rss"


def test_external_entities_and_oversized_bodies_are_refused():
    external = b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]><opml><body><outline title="&x;" xmlUrl="u"/></body></opml>'
    with pytest.raises(OpmlError, match="entity"):
        parse_opml(external)
    big = b'<?xml version="1.0"?><opml><body>' + b"<outline/>" * (MAX_OPML_BYTES // 10) + b"</body></opml>"
    with pytest.raises(OpmlError, match="larger than"):
        parse_opml(big)


def test_long_titles_are_cut_and_control_characters_dropped():
    doc = ('<opml><body><outline title="A\u202eB&#9;\u0085' + "x" * 5000 + '" xmlUrl="https://a.example/rss"/></body></opml>').encode()
    [outline] = parse_opml(doc)
    assert outline.title.startswith("AB x") and len(outline.title) == 500
    assert not {"\u202e", "\t", "\x85"} & set(outline.title)


def test_a_feed_declaring_entities_is_refused_whatever_its_encoding():
    feed = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE rss [<!ENTITY a "' + "a" * 1000 + '">]>'
            '<rss version="2.0"><channel><title>&a;&a;&a;</title><item><title>one</title></item></channel></rss>')
    parsed = parse_feed(feed.encode("utf-16-le"))
    assert parsed.error is not None and "entity" in parsed.error.message
    fine = parse_feed('<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>T</title>'
                      '<item><title>one</title></item></channel></rss>'.encode("utf-16"))
    assert fine.error is None and [e["title"] for e in fine.entries] == ["one"]


def test_encoding_sniffing():
    assert xmlsafe.decode(b'\xef\xbb\xbf<a/>') == "<a/>"
    assert xmlsafe.decode("<?xml version='1.0' encoding='utf-16'?><a/>".encode("utf-16-be")).endswith("<a/>")
    assert xmlsafe.decode(b'<?xml version="1.0" encoding="windows-1252"?><a>\x93</a>').endswith("<a>\u201c</a>")
    assert xmlsafe.decode(b'<?xml version="1.0" encoding="no-such-codec"?><a/>').endswith("<a/>")  # read as UTF-8
