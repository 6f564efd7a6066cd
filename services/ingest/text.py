"""Plain text from feed HTML: sanitise with nh3, then read the text out with a real HTML parser.

No regular expression ever touches markup here. nh3 (the maintained Rust sanitiser) removes
scripts, styles and every tag but a few block tags; the standard library's HTML parser then
reads the text, turning block boundaries into line breaks so that words never run together.
Unicode bidirectional overrides and isolates are removed from the text: a feed must not be able
to reorder what a reader sees in a digest ("gnp.exe" shown as "exe.png"). The implicit marks
(LRM, RLM, ALM) stay, as right-to-left text needs them and they reorder nothing by themselves.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

import nh3

#: Tags kept through sanitising only so that their boundaries become whitespace.
_BLOCK_TAGS = {"p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
               "blockquote", "pre", "section", "article", "dd", "dt", "hr", "table"}
#: LRE, RLE, PDF, LRO, RLO (U+202A-U+202E) and LRI, RLI, FSI, PDI (U+2066-U+2069).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NO_BIDI = {ord(c): None for c in BIDI_CONTROLS}
_DROP_CONTENT = {"script", "style", "template", "noscript", "title", "head", "iframe", "object", "svg", "math"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_bidi_controls(text: str) -> str:
    """The text without bidirectional override and isolate characters."""
    return text.translate(_NO_BIDI)


def collapse_whitespace(text: str) -> str:
    """Single spaces inside lines, no blank lines, no leading or trailing space, no bidi overrides."""
    lines = (" ".join(line.split()) for line in strip_bidi_controls(text).splitlines())
    return "\n".join(line for line in lines if line)


def html_to_text(fragment: str | None) -> str:
    """The readable text of an HTML (or plain-text) fragment, paragraphs on their own lines."""
    if not fragment:
        return ""
    cleaned = nh3.clean(fragment, tags=_BLOCK_TAGS, attributes={}, clean_content_tags=_DROP_CONTENT)
    collector = _TextCollector()
    collector.feed(cleaned)
    collector.close()
    # Feeds double-escape now and then ("&amp;amp;"): one more unescape is harmless on clean text.
    text = "".join(collector.parts)
    if "&" in text:
        text = html.unescape(text)
    return collapse_whitespace(text)


def clean_title(fragment: str | None) -> str:
    """A one-line plain-text title: markup removed, whitespace collapsed."""
    return " ".join(html_to_text(fragment).split())
