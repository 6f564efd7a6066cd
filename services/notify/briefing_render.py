"""Render the board briefing: a short e-mail for a phone (summary, top items, the chart, the PDF
attached) and the full printable page the PDF is made from.

The e-mail's links are tracked per member; the printed page is the same for every member of the
organisation, filed and forwarded, so its links are the items' own.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any, Callable

from services.notify.branding import Branding
from services.notify.briefing import Briefing, item_ids
from services.notify.links import Links
from services.notify.render import _NO_LINKS, Recipient, Rendered, render_pair, render_template

CHART_ID = "briefing-themes@horizon"
HEADING = "Board horizon-scanning briefing"
#: Items the e-mail shows; the PDF has them all.
TOP_ITEMS = 5


def _context(briefing: Briefing, organisation: str, with_links: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    p = briefing.period
    org = organisation or "your organisation"
    intro = f"Horizon scanning for {org}: items published {p.covers}."
    return {
        "heading": HEADING,
        "preheader": briefing.what_changed,
        "intro": intro,
        "organisation": org,
        "period_label": p.label,
        "covers": p.covers,
        "what_changed": briefing.what_changed,
        "moved": briefing.moved,
        "has_baseline": briefing.has_baseline,
        "baseline_months": max(len(briefing.trend.months) - 1, 0),
        "alerts": [{"e": with_links(a.entry), "reached": a.reached, "reach": a.reach_text} for a in briefing.alerts],
        "unreached": len(briefing.unreached_alerts),
        "policy": [with_links(e) for e in briefing.policy],
        "guidance": [with_links(e) for e in briefing.guidance],
        "emerging": briefing.emerging,
        "themes": [{"label": t.label, "count": t.count, "entries": [with_links(e) for e in t.entries]}
                   for t in briefing.themes],
        "figures": briefing.figures,
    }


def top_entries(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The few items the e-mail names: policy and guidance first, then the best evidence."""
    picks = context["policy"][:2] + context["guidance"][:2]
    picks += [e for t in context["themes"] for e in t["entries"][:1]]
    return picks[:TOP_ITEMS]


def briefing_context(
    briefing: Briefing, *, recipient: Recipient, organisation: str, digest_id: str, brand: Branding, links: Links,
    chart: bool = False, pdf: bool = False, period_label: str = "",
) -> dict[str, Any]:
    """What the briefing e-mail templates are rendered with."""
    places = {item_id: i for i, item_id in enumerate(item_ids(briefing))}

    def with_links(e: Any) -> dict[str, Any]:
        only_click = _NO_LINKS | {"click": links.click(digest_id, places[e.item_id]) if e.url else ""}
        return asdict(e) | {"links": only_click, "why_label": "Reach"}

    context = _context(briefing, organisation, with_links)
    label = period_label or briefing.period.label
    subject = f"{HEADING}: {label}" + (f" - {organisation}" if organisation else "")
    return context | {
        "subject": subject,
        "period_label": label,
        "name": recipient.name,
        "brand": brand,
        "top": top_entries(context),
        "chart_src": f"cid:{CHART_ID}" if chart else "",
        "pdf": pdf,
        "preferences_url": links.preferences(recipient.subscriber_id),
        "unsubscribe_url": links.unsubscribe(recipient.subscriber_id),
    }


def render_briefing(
    briefing: Briefing, *, recipient: Recipient, organisation: str, digest_id: str, brand: Branding, links: Links,
    chart: bool = False, pdf: bool = False,
) -> Rendered:
    """The monthly board briefing e-mail of one organisation, for one board member."""
    context = briefing_context(briefing, recipient=recipient, organisation=organisation, digest_id=digest_id,
                               brand=brand, links=links, chart=chart, pdf=pdf)
    html, text = render_pair("briefing", context)
    return Rendered(subject=context["subject"], html=html, text=text)


def render_briefing_print(briefing: Briefing, *, organisation: str, brand: Branding, prepared: str,
                          chart: bytes | None = None) -> str:
    """The whole briefing as a printable page (A4), for the PDF board members file with their papers."""
    src = "data:image/png;base64," + base64.b64encode(chart).decode() if chart else ""
    context = _context(briefing, organisation, asdict) | {"brand": brand, "prepared": prepared, "chart_src": src}
    return render_template("briefing_print.html", context)
