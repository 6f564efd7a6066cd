"""One hardened way to read XML, whatever its encoding: no entity declarations, a size limit.

A check on the raw bytes (`b"<!ENTITY" in data`) misses the same declaration written in UTF-16
or UTF-32, so every check here runs on the text as the parser reads it:

1. `decode` finds the encoding as the XML specification says (byte order mark, then the
   patterns of BOM-less UTF-16/32, then the declaration's `encoding=`, else UTF-8) and decodes;
2. `parse` hands that text to expat (which then ignores the declared encoding) with entity
   declarations, unparsed entities and external references refused as they are met, and
   builds an ElementTree element with `{namespace}name` names, as ElementTree does;
3. `entity_problem` looks at a feed's prolog only (feedparser parses feeds itself): a feed that
   declares entities is refused rather than expanded.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from xml.parsers import expat

# UTF-32 before UTF-16: a UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# '<' (and '<?') as each encoding writes it, for documents without a BOM (XML 1.0 appendix F)
_PATTERNS = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"), (b"\x00<", "utf-16-be"),
             (b"<\x00", "utf-16-le"))
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]{0,40})["']""")
_FIRST_ELEMENT = re.compile(r"<[A-Za-z_:]")
_PROLOG_BYTES = 1 << 20


class XmlRefused(ValueError):
    """The document is not read: too large, not well-formed, or declaring entities."""


def sniff_encoding(data: bytes) -> tuple[str, int]:
    """(codec name, length of the byte order mark to skip)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    for start, name in _PATTERNS:
        if data.startswith(start):
            return name, 0
    declared = _DECLARED.match(data[:200])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            return "utf-8", 0
        # a document that reached here is ASCII-compatible: a declared UTF-16/32 is a lie
        return ("utf-8", 0) if codec.startswith(("utf-16", "utf-32")) else (codec, 0)
    return "utf-8", 0


def decode(data: bytes) -> str:
    """The document as text, read in the encoding it is written in (undecodable bytes replaced)."""
    name, skip = sniff_encoding(data)
    return data[skip:].decode(name, errors="replace")


def _refuse_entity(*_args: object) -> None:
    raise XmlRefused("documents that declare entities are refused (no entity expansion)")


def _refuse_external(*_args: object) -> int:
    raise XmlRefused("documents that refer to external entities are refused")


def _qname(name: str) -> str:
    """expat's 'namespace}local' as ElementTree's '{namespace}local'."""
    return "{" + name if "}" in name else name


def parse(data: bytes, max_bytes: int) -> ET.Element:
    """The root element of a document of at most `max_bytes`; XmlRefused otherwise."""
    if len(data) > max_bytes:
        raise XmlRefused(f"the document is larger than {max_bytes} bytes")
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    builder = ET.TreeBuilder()
    parser.buffer_text = True
    parser.StartElementHandler = lambda name, attrs: builder.start(_qname(name), {_qname(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda name: builder.end(_qname(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(decode(data), True)  # text: expat reads it as decoded, whatever the declaration says
    except expat.ExpatError as exc:
        raise XmlRefused(f"not well-formed XML: {exc}") from exc
    return builder.close()


def entity_problem(data: bytes) -> str | None:
    """Why a feed is refused before feedparser sees it (entity declarations in its prolog), or None."""
    head = data[:_PROLOG_BYTES]
    text = decode(head)
    first = _FIRST_ELEMENT.search(text)
    if first is None and len(data) > len(head):
        return f"the feed has no element in its first {_PROLOG_BYTES} bytes"
    prolog = text[: first.start()] if first else text
    if "<!ENTITY" in prolog:
        return "feeds that declare entities are refused (no entity expansion)"
    return None
