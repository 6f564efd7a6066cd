"""Render e-mails: Jinja2 templates (HTML autoescaped, CSS inlined with css-inline) plus plain text.

Rendering is pure apart from reading the templates: data in, (subject, html, text) out. Each
template is compiled once, and an e-mail template's CSS is inlined once per brand (inline.py),
not once per message; templates are not reloaded from disk while notify runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notify.branding import Branding
from services.notify.inline import inlined_template
from services.notify.digest import Digest, Entry
from services.notify.links import Links

TEMPLATES = Path(__file__).parent / "templates"

class _Environment(Environment):
    """Templates read `e.title` from dicts (entries, links): the key is looked up first, where
    Jinja would first try an attribute and catch the error, hundreds of times a message."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_env = _Environment(
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


def _offered(entry_links: dict[str, str], e: Entry) -> dict[str, str]:
    """A full-text request only where it helps: a journal article that is not free to read."""
    return entry_links if e.full_text else entry_links | {"full_text": ""}


def _short(text: str, limit: int) -> str:
    """Text up to `limit` characters, cut at a word with an ellipsis where longer (subjects, preheaders)."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


_DESIGN_SUBTITLE = re.compile(r":\s+(an?|the)?\s*[\w\s,-]*\b(trial|review|meta-analysis|study|analysis|evaluation|"
                              r"series|survey|audit)\b[^:]*$", re.I)
_GUIDANCE_BADGES = ("Guideline", "Policy", "Safety alert")


def _subject_title(top: Entry) -> str:
    """The top item as a subject names it: a paper without its design subtitle ('...: a randomised
    trial', the badge says so), guidance and alerts with their kind; short enough for a phone."""
    if top.badge in _GUIDANCE_BADGES:
        says_so = any(word in top.title.lower() for word in ("guideline", "guidance", "alert", "recall", "policy"))
        return _short(top.title if says_so else f"{top.badge}: {top.title}", 80)
    return _short(_DESIGN_SUBTITLE.sub("", top.title) or top.title, 70)


def subject_and_preheader(digest: Digest, kind: str) -> tuple[str, str]:
    """A subject that names the top item, and a preheader (the inbox's preview line) naming the next."""
    entries = [e for g in digest.groups for e in g.entries]
    if not entries:
        return ("Urgent evidence alert" if kind == "alert" else "Your evidence update"), ""
    top, rest = entries[0], entries[1:]
    subject = ("Urgent: " if kind == "alert" else "") + _subject_title(top)
    if rest:
        subject += f", and {len(rest)} more"
    if rest:
        preheader = "Also: " + "; ".join(_short(e.title, 60) for e in rest[:2]) + ("…" if len(rest) > 2 else "")
    else:
        preheader = _short(top.summary or top.why or top.source, 140)
    return subject, preheader


def _groups(digest: Digest, links: Links, digest_id: str) -> list[dict[str, Any]]:
    places = {item_id: i for i, item_id in enumerate(digest.item_ids)}
    return [
        {
            "heading": group.heading,
            "entries": [
                # Entry holds only strings and flags: a shallow copy is what asdict's deep one gives
                vars(e) | {"links": _offered(_entry_links(links, digest_id, places, e.item_id, bool(e.url)), e)}
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
    subject, preheader = subject_and_preheader(digest, kind)
    if kind == "alert":
        heading = "Urgent evidence alert"
        intro = f"{n} urgent {plural} (safety alerts or new national guidance) matched your interests."
    else:
        heading = f"Your {frequency_word} evidence update"
        intro = f"{n} new {plural} matched your interests, best first."
    return {
        "subject": subject,
        "preheader": preheader,
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
