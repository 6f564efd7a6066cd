"""CSS inlined once per template gives the e-mails that inlining every message gave."""

from __future__ import annotations

from datetime import datetime, timezone
from html.parser import HTMLParser

import css_inline
import pytest
from jinja2 import DictLoader, Environment

from contracts import EvidenceType, MatchReason
from services.notify import briefing_render, render
from services.notify.links import build_links
from services.notify.branding import Branding
from services.notify.briefings import gather
from services.notify.digest import Candidate, build_alert, build_digest
from services.notify.inline import inlined_template

NOV = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
BRANDS = [
    Branding("Horizon Library", "", "#005EB8", "#212B32", "#F0F4F5"),
    Branding("Lib & Co <Knowledge>", "https://library.example.org/logo.png", "#FFE066", "#CCCCCC", "#FFFFFF"),
]
_normaliser = css_inline.CSSInliner(keep_style_tags=False)


class Events(HTMLParser):
    """A document as a list of elements (attributes in any order), texts and ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("end", tag))

    def handle_data(self, data) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("text", data))


def structure(html: str) -> list[tuple]:
    """What a mail client sees: the HTML parsed as browsers do (tbody and all), then as events,
    without the whitespace between tags that no client shows."""
    parser = Events()
    parser.feed(_normaliser.inline(html))
    return [e for e in parser.events if e[0] != "text" or e[1].strip()]


def per_message(name: str, context: dict) -> str:
    """How every e-mail was inlined before: render, then run css-inline on the whole message."""
    return _normaliser.inline(render.render_template(name, context))


def candidates(ev) -> list[Candidate]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(9):
        item = ev.classified(
            f"doi:{i}", title=f"Trial {i}: 'quoted' & <b>bold</b> claims", url="" if i == 2 else None,
            language="de" if i == 3 else None, summary="" if i == 4 else "One. Two. Three.",
        ).item
        out.append(Candidate(
            item=item, score=0.9 - i / 100, evidence_type=EvidenceType.trial, urgent=i in (1, 5), matched_at=NOV,
            reasons=(MatchReason(kind="topic" if i % 2 else "interest", text=f"Reason {i % 3}", score=0.8),),
        ))
    return out


@pytest.mark.parametrize("brand", BRANDS, ids=["nhs", "pale-with-logo"])
def test_digests_and_alerts_are_the_same_as_inlined_per_message(ev, settings, brand) -> None:  # type: ignore[no-untyped-def]
    links = build_links(settings)
    recipient = render.Recipient("s1", "org-1", "Dr O'Neil & <Co>", "s1@example.nhs.uk")
    found = candidates(ev)
    shapes = [
        ("digest", build_digest(found, 5)),  # grouped, with 4 more not shown
        ("digest", build_digest(found[:1], 12)),
        ("alert", build_alert(found)),
        ("alert", build_alert(found[1:2])),
    ]
    for kind, digest in shapes:
        context = render.digest_context(
            digest, kind=kind, recipient=recipient, period_label="week of 23 November 2026", frequency_word="weekly",
            digest_id="d-1", brand=brand, links=links,
        )
        html, _ = render.render_pair("digest", context)
        assert "<style" not in html and 'style="' in html
        assert structure(html) == structure(per_message("digest.html", context))


def test_briefings_are_the_same_as_inlined_per_message(make, ev) -> None:  # type: ignore[no-untyped-def]
    n, _ = make()
    n.handle(ev.classified("nice:ng1", title="NICE guideline on heart failure", evidence=EvidenceType.guideline, at=NOV))
    for i in range(4):
        n.handle(ev.classified(f"doi:c{i}", title=f"Cardiology trial {i}", tags=("cardiology",), at=NOV))
        n.handle(ev.matched("nurse", f"doi:c{i}", score=0.5 + i / 10, at=NOV))
    briefing = gather(n, "org-1", 2026, 11)
    recipient = render.Recipient("chair", "org-1", "Chair", "chair@example.nhs.uk")
    for brand in BRANDS:
        context = briefing_render.briefing_context(
            briefing, recipient=recipient, organisation="Example Hospitals NHS Trust", digest_id="b-1", brand=brand,
            links=n.links, chart=True, pdf=True,
        )
        html, _ = render.render_pair("briefing", context)
        assert structure(html) == structure(per_message("briefing.html", context))


def test_a_template_is_inlined_and_compiled_once_per_brand() -> None:
    first = render.html_template("digest.html", BRANDS[0])
    assert render.html_template("digest.html", BRANDS[0]) is first
    assert render.html_template("digest.html", BRANDS[1]) is not first


@pytest.mark.parametrize("page", [
    '<html><head><style>.a { color: red; }</style></head><body><p class="{{ c }}">x</p></body></html>',
    '<html><head><style>p:first-child { color: red; }</style></head><body>{% for i in x %}<p>{{ i }}</p>{% endfor %}</body></html>',
    '<html><head><style>p + p { color: red; }</style></head><body><p>a</p><p>b</p></body></html>',
])
def test_css_that_depends_on_the_rendered_message_is_refused(page: str) -> None:
    env = Environment(loader=DictLoader({"page.html": page}), autoescape=True)
    with pytest.raises(ValueError):
        inlined_template(env, "page.html", {})
