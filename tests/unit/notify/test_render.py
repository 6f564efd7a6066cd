"""Rendered e-mails: hostile feed content neutralised, accessible HTML, a plain-text twin."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest
from jinja2 import UndefinedError

from services.notify.branding import Branding, contrast_ratio, text_on
from services.notify.render import _env

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
HOSTILE_TITLE = 'Apixaban <script>alert("title")</script> in <b>AF</b> <img src=x onerror="alert(2)">'
HOSTILE_SUMMARY = (
    '<p onclick="evil()">Broken <i>markup <a href="javascript:alert(3)">click me</a> here. '
    "&lt;script&gt;document.cookie&lt;/script&gt; Second sentence."
)


def parts(raw: bytes) -> tuple[str, str]:
    msg = message_from_bytes(raw, policy=policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def test_hostile_feed_content_is_removed_from_both_parts(make, ev) -> None:
    n, t = make()
    n.handle(ev.profile("asha", name='Asha <script>x</script>'))
    n.handle(ev.classified("doi:1", title=HOSTILE_TITLE, summary=HOSTILE_SUMMARY, url="javascript:alert(4)"))
    n.handle(ev.matched("asha", "doi:1", reason='AF <iframe src="https://evil.example"></iframe>'))
    n.run_due(MONDAY_8)
    text, html = parts(t.sent[0].raw)
    for part in (text, html):
        assert "javascript:" not in part.lower()
        assert "onerror" not in part and "onclick" not in part and "<iframe" not in part
        assert "document.cookie" not in part
        assert "Apixaban in AF" in part and "Broken markup click me here. Second sentence." in part
    assert "<script" not in html.lower().replace("&lt;script", "")
    # the subscriber's own name is data too: escaped in HTML, never live markup
    assert "Asha &lt;script&gt;x&lt;/script&gt;" in html
    # no link to a javascript: URL: the title is shown without a tracking link
    assert "/r/" not in html


def test_html_is_accessible_and_inlined(make, ev) -> None:
    n, t = make(library_logo_url="https://library.example.org/logo.png", library_name="Example Library")
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:1", title="Apixaban versus warfarin"))
    n.handle(ev.matched("asha", "doi:1", reason="Stroke prevention in AF"))
    n.run_due(MONDAY_8)
    text, html = parts(t.sent[0].raw)
    assert re.search(r'<html[^>]* lang="en-GB"', html)
    assert 'src="https://library.example.org/logo.png" alt="Example Library"' in html
    assert "<h1" in html and "<h2" in html and "<h3" in html
    assert 'role="presentation"' in html
    assert "<style" not in html and 'style="' in html  # CSS inlined for mail clients
    assert "Why you got this:" in html and "Stroke prevention in AF" in html
    for label in ("Useful", "Not relevant", "Request the full text", "Unsubscribe", "Change what you receive"):
        assert label in html and label in text
    assert "https://horizon.example.org/s/self/" in html and "https://horizon.example.org/n/r/" in html
    assert "[Trial] Apixaban versus warfarin" in text and "BMJ - 23 Nov 2026" in text


def test_brand_colours_keep_text_readable() -> None:
    nhs = Branding("L", "", "#005EB8", "#212B32", "#F0F4F5")
    assert nhs.on_primary == "#FFFFFF" and contrast_ratio(nhs.on_primary, nhs.primary) >= 4.5
    pale = Branding("L", "", "#FFE066", "#CCCCCC", "#FFFFFF")  # a pale brand: text switches to dark
    assert pale.on_primary == "#212B32"
    assert contrast_ratio(pale.link, "#FFFFFF") >= 4.5 and contrast_ratio(pale.body_text, "#FFFFFF") >= 4.5
    assert text_on("#000000") == "#FFFFFF"


def test_templates_read_dict_keys_first_and_keep_jinjas_rules_otherwise() -> None:
    page = _env.from_string("{{ e.title }}|{{ e.links.click }}|{{ e.keys() | list | length }}|{{ obj.real }}")
    assert page.render(e={"title": "A & B", "links": {"click": "https://x.org/c"}}, obj=3) == "A &amp; B|https://x.org/c|2|3"
    with pytest.raises(UndefinedError):  # a missing key is still an error, not an empty string
        _env.from_string("{{ e.summary }}").render(e={"title": "x"})
