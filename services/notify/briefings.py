"""Monthly board briefings: gather an organisation's month from the store, then send per board member.

Same delivery protocol as digests (intent, send, mark sent), keyed (subscriber, 'briefing',
'YYYY-MM'), so a briefing goes once per month and member. The briefing also goes as an A4 PDF
attachment (setting briefing_pdf), rendered once per organisation: board members file it with
their papers and forward it, so its links are the items' own rather than tracked ones.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from datetime import datetime
from collections.abc import Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from contracts import DigestSent, EvidenceType, Item, Profile, TopicTag
from services.notify.branding import Branding
from services.notify.briefing import GUIDANCE, BriefItem, Briefing, build_briefing, theme_counts
from services.notify.message import delivery_id
from services.notify.pdf import PdfUnavailable, html_to_pdf
from services.notify.render import (
    Attachment, Recipient, Rendered, briefing_item_ids, render_briefing, render_briefing_print,
)
from services.notify.compose import Composer
from services.notify.deliveries import DeliveryLog
from services.notify.due import Schedule
from services.notify.links import Links
from services.notify.ownership import Ownership
from services.notify.schedule import due_briefing_month, month_bounds, month_key, previous_month
from services.notify.settings import NotifySettings
from services.notify.store import NotifyStore
from services.notify.tables import DeliveryRow

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """What a briefing needs of the notifier that sends it (notifier.Notifier): its state, how it
    composes, and how it holds and sends a recorded intent."""

    settings: NotifySettings
    store: NotifyStore
    log: DeliveryLog
    brand: Branding
    links: Links
    tz: ZoneInfo
    composer: Composer
    ownership: Ownership
    schedule: Schedule

    def hold(self, rows: Sequence[DeliveryRow]) -> None: ...

    def dispatch(self, rows: list[DeliveryRow], now: datetime) -> list[DigestSent]: ...


def _brief(item_row, subscribers: int = 0, best: float = 0.0) -> BriefItem:  # type: ignore[no-untyped-def]
    return BriefItem(
        item=Item.model_validate(item_row.item), evidence_type=EvidenceType(item_row.evidence_type),
        tags=tuple(TopicTag.model_validate(t) for t in item_row.tags), urgent=item_row.urgent,
        subscribers=subscribers, best_score=best,
    )


def matched_items(n: Notifier, organisation_id: str, start: datetime, end: datetime) -> list[BriefItem]:
    rows = n.store.org_matches(organisation_id, start, end)
    subscribers: Counter[str] = Counter(m.item_id for m, _ in rows)
    best: dict[str, float] = {}
    items = {}
    for match, item in rows:
        best[match.item_id] = max(best.get(match.item_id, 0.0), match.score)
        items[match.item_id] = item
    return [_brief(items[i], subscribers[i], best[i]) for i in items]


def gather(n: Notifier, organisation_id: str, year: int, month: int) -> Briefing:
    """The briefing of one organisation's month, from notify's store."""
    start, end = month_bounds(year, month, n.tz)
    matched = matched_items(n, organisation_id, start, end)
    national = [_brief(r) for r in n.store.items_between(start, end) if EvidenceType(r.evidence_type) in GUIDANCE]
    history = []
    for back in range(1, n.settings.baseline_months + 1):
        y, m = previous_month(year, month, back)
        history.append(theme_counts(matched_items(n, organisation_id, *month_bounds(y, m, n.tz))))
    counts = {
        "items_classified": len(n.store.items_between(start, end)),
        "items_matched": len(matched),
        "subscribers_reached": len({m.subscriber_id for m, _ in n.store.org_matches(organisation_id, start, end)}),
    } | n.log.counts(organisation_id, start, end)
    return build_briefing(matched, national, history, counts)


def run_briefings(n: Notifier, now: datetime, *, force: bool = False) -> list[DigestSent]:
    """Send each organisation's briefing to its board members, once per month.

    Normally the briefing for last month goes from the 1st at `briefing_hour`; force=True sends
    the current month so far instead (demos).
    """
    local = now.astimezone(n.tz)
    year, month = (local.year, local.month) if force else due_briefing_month(now, n.tz, n.settings.briefing_hour)
    period = month_key(year, month)
    label = datetime(year, month, 1).strftime("%B %Y")
    sent: list[DigestSent] = []
    for org, people in board_members(n, period).items():
        briefing = gather(n, org, year, month)
        if briefing.empty:
            log.info("nothing to brief", extra={"organisation_id": org, "period": period})
            continue
        pdfs: dict[str, Attachment | None] = {}
        for sid, profile in people:
            recipient = Recipient(sid, org, profile.name, profile.email)
            rendered = render_briefing(
                briefing, recipient=recipient, organisation=profile.organisation_name, period_label=label,
                digest_id=delivery_id(sid, "briefing", period), brand=n.brand, links=n.links,
            )
            if n.settings.briefing_pdf:
                name = profile.organisation_name
                if name not in pdfs:
                    pdfs[name] = briefing_pdf(n, briefing, organisation=name, period=period, label=label, now=now)
                rendered = with_attachment(rendered, pdfs[name])
            row = n.composer.compose(recipient, "briefing", period, rendered, briefing_item_ids(briefing), now)
            if row is None:
                continue
            n.hold([row])
            if n.log.claim(row, []):
                sent += n.dispatch([row], now)
    return sent


def board_members(n: Notifier, period: str) -> dict[str, list[tuple[str, Profile]]]:
    """This instance's board members not yet briefed for `period`, by organisation (read a page
    at a time; board members are a few per organisation, so all of them are held)."""
    members: dict[str, list[tuple[str, Profile]]] = {}
    after: str | None = None
    while page := n.schedule.board_page(after=after, limit=n.settings.page_size, partitions=n.ownership.partitions):
        briefed = n.log.existing("briefing", [(d.subscriber_id, period) for d in page.due])
        for d in page.due:
            if d.profile.board_briefing and d.profile.active and (d.subscriber_id, period) not in briefed:
                members.setdefault(d.organisation_id, []).append((d.subscriber_id, d.profile))
        after = page.last
    return members


def briefing_pdf(n: Notifier, briefing: Briefing, *, organisation: str, period: str, label: str,
                 now: datetime) -> Attachment | None:
    """The briefing as a PDF attachment; None (and an error logged) if it cannot be made, so
    that the e-mail still goes."""
    prepared = now.astimezone(n.tz).strftime("%-d %B %Y")
    html = render_briefing_print(briefing, organisation=organisation, period_label=label, brand=n.brand,
                                 prepared=prepared)
    try:
        data = html_to_pdf(html)
    except PdfUnavailable as exc:
        log.error("briefing PDF not made", extra={"period": period, "error": str(exc)})
        return None
    return Attachment(filename=f"board-briefing-{period}.pdf", content_type="application/pdf", data=data)


def with_attachment(rendered: Rendered, attachment: Attachment | None) -> Rendered:
    return rendered if attachment is None else replace(rendered, attachments=(*rendered.attachments, attachment))
