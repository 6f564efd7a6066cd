"""Render e-mails: Jinja2 templates (HTML autoescaped, CSS inlined with css-inline) plus plain text.

Rendering is pure apart from reading the templates: data in, (subject, html, text) out. Each
template is compiled once, and an e-mail template's CSS is inlined once per brand (inline.py),
not once per message; templates are not reloaded from disk while notify runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notify.branding import Branding
from services.notify.inline import inlined_template
from services.notify.digest import Digest
from services.notify.links import Links

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,
)
_inlined: dict[tuple[str, Branding], Template] = {}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    data: bytes
    content_id: str = ""  # set: an inline part the HTML shows as cid:<content_id> (the briefing's chart)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Recipient:
    subscriber_id: str
    organisation_id: str
    name: str
    email: str


def render_template(name: str, context: dict[str, Any]) -> str:
    return _env.get_template(name).render(**context)


def html_template(name: str, brand: Branding) -> Template:
    """An e-mail template with the brand's CSS inlined on its elements, made once and kept."""
    key = (name, brand)
    if key not in _inlined:  # a race in two threads makes the same template twice: harmless
        _inlined[key] = inlined_template(_env, name, {"brand": brand})
    return _inlined[key]


def render_pair(base: str, context: dict[str, Any]) -> tuple[str, str]:
    """The inlined HTML and the plain text of one template pair."""
    html = html_template(f"{base}.html", context["brand"]).render(**context)
    return html, render_template(f"{base}.txt", context)


_NO_LINKS = {"click": "", "useful": "", "not_relevant": "", "full_text": ""}


def _entry_links(links: Links, digest_id: str, places: dict[str, int], item_id: str, has_url: bool) -> dict[str, str]:
    """An item's links name its place in the delivery's item list (the delivery row keeps the list)."""
    index = places.get(item_id)
    return _NO_LINKS if index is None else links.entry(digest_id, index, click=has_url)


def _groups(digest: Digest, links: Links, digest_id: str) -> list[dict[str, Any]]:
    places = {item_id: i for i, item_id in enumerate(digest.item_ids)}
    return [
        {
            "heading": group.heading,
            "entries": [
                # Entry holds only strings and flags: a shallow copy is what asdict's deep one gives
                vars(e) | {"links": _entry_links(links, digest_id, places, e.item_id, bool(e.url))}
                for e in group.entries
            ],
        }
        for group in digest.groups
    ]


def render_digest(
    digest: Digest, *, kind: str, recipient: Recipient, period_label: str, frequency_word: str,
    digest_id: str, brand: Branding, links: Links,
) -> Rendered:
    """A digest (kind 'digest') or an urgent alert (kind 'alert') for one recipient."""
    context = digest_context(
        digest, kind=kind, recipient=recipient, period_label=period_label, frequency_word=frequency_word,
        digest_id=digest_id, brand=brand, links=links,
    )
    html, text = render_pair("digest", context)
    return Rendered(subject=context["subject"], html=html, text=text)


def digest_context(
    digest: Digest, *, kind: str, recipient: Recipient, period_label: str, frequency_word: str,
    digest_id: str, brand: Branding, links: Links,
) -> dict[str, Any]:
    """What the digest templates are rendered with."""
    n = digest.shown
    plural = "item" if n == 1 else "items"
    if kind == "alert":
        subject = f"Urgent: {digest.groups[0].entries[0].title}" if n == 1 else f"Urgent: {n} new alerts and guidance"
        heading = "Urgent evidence alert"
        intro = f"{n} urgent {plural} (safety alerts or new national guidance) matched your interests."
    else:
        subject = f"Your {frequency_word} evidence update: {n} new {plural}"
        heading = f"Your {frequency_word} evidence update"
        intro = f"{n} new {plural} matched your interests, best first, grouped by why they were chosen."
    return {
        "subject": subject,
        "preheader": intro,
        "heading": heading,
        "intro": intro,
        "name": recipient.name,
        "groups": _groups(digest, links, digest_id),
        "more": digest.more,
        "period_label": period_label,
        "frequency_word": frequency_word,
        "brand": brand,
        "preferences_url": links.preferences(recipient.subscriber_id),
        "unsubscribe_url": links.unsubscribe(recipient.subscriber_id),
    }
