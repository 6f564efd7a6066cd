"""Monthly board briefings: gather an organisation's month from the store, then send per board member.

Same delivery protocol as digests (intent, send, mark sent), keyed (subscriber, 'briefing',
'YYYY-MM'), so a briefing goes once per month and member. The briefing also goes as an A4 PDF
attachment (setting briefing_pdf), rendered once per organisation: board members file it with
their papers and forward it, so its links are the items' own rather than tracked ones.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from collections.abc import Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from contracts import DigestSent, EvidenceType, Item, Profile, TopicTag
from services.notify.branding import Branding
from services.notify.briefing import NATIONAL, BriefItem, Briefing, Period, build_briefing, theme_counts
from services.notify.briefing_render import CHART_ID, render_briefing, render_briefing_print
from services.notify.chart import theme_chart_png
from services.notify.message import delivery_id
from services.notify.pdf import PdfUnavailable, html_to_pdf
from services.notify.briefing import item_ids as briefing_item_ids
from services.notify.render import Attachment, Recipient, Rendered
from services.notify.compose import Composer
from services.notify.deliveries import DeliveryLog
from services.notify.due import Schedule
from services.notify.links import Links
from services.notify.ownership import Ownership
from services.notify.schedule import due_briefing_month, month_bounds, month_key, previous_month
from services.notify.settings import NotifySettings
from services.notify.store import NotifyStore
from services.notify.tables import Delivery

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

    def hold(self, rows: Sequence[Delivery]) -> None: ...

    def dispatch(self, rows: list[Delivery], now: datetime) -> list[DigestSent]: ...


def _brief(item_row, subscribers: int = 0, best: float = 0.0, reached: tuple[str, ...] = ()) -> BriefItem:  # type: ignore[no-untyped-def]
    return BriefItem(
        item=Item.model_validate(item_row.item), evidence_type=EvidenceType(item_row.evidence_type),
        tags=tuple(TopicTag.model_validate(t) for t in item_row.tags), urgent=item_row.urgent,
        subscribers=subscribers, best_score=best, reached=reached,
    )


def _who(subscriber) -> str:  # type: ignore[no-untyped-def]
    """How a briefing names a colleague an item reached: their role, else their name."""
    profile = Profile.model_validate(subscriber.profile) if subscriber.profile else None
    return (profile.role or profile.name) if profile else "a colleague"


def matched_items(n: Notifier, organisation_id: str, start: datetime, end: datetime) -> tuple[list[BriefItem], int]:
    """The items dated in [start, end) matched to the organisation's subscribers, and how many
    subscribers they reached."""
    rows = n.store.org_matches(organisation_id, start, end)
    reached: dict[str, list[str]] = {}
    best: dict[str, float] = {}
    items = {}
    for match, item, subscriber in rows:
        best[match.item_id] = max(best.get(match.item_id, 0.0), match.score)
        items[match.item_id] = item
        reached.setdefault(match.item_id, []).append(_who(subscriber))
    briefed = [_brief(items[i], len(reached[i]), best[i], tuple(sorted(set(reached[i])))) for i in items]
    return briefed, len({m.subscriber_id for m, _, _ in rows})


def period_of(now: datetime, tz: ZoneInfo, hour: int, *, force: bool = False,
              month: tuple[int, int] | None = None) -> Period:
    """The month a briefing sent at `now` covers: last calendar month once it is due (the 1st at
    `hour`); with force, this month so far; or the month given (its days so far, if it runs still)."""
    today = now.astimezone(tz).date()
    if month is None and force:
        month = (today.year, today.month)
    if month is None:
        y, m = due_briefing_month(now, tz, hour)
        return Period(y, m, Period(y, m, today).month_end)
    full = Period(month[0], month[1], today).month_end
    return Period(month[0], month[1], min(full, today) if today >= date(month[0], month[1], 1) else full)


def figures(n: Notifier, organisation_id: str, start: datetime, end: datetime, scanned: int, matched: int,
            reached: int) -> list[tuple[str, int]]:
    """The library's figures of the month, each only where it is known: engagement only once
    something was sent that could be opened or rated."""
    counts = n.log.counts(organisation_id, start, end)
    out = [("new items scanned", scanned), ("items matched to staff", matched), ("staff with matches", reached)]
    sent = counts.get("sent_digest", 0) + counts.get("sent_alert", 0)
    if sent:
        out += [("digests sent", counts.get("sent_digest", 0)), ("urgent alerts sent", counts.get("sent_alert", 0)),
                ("items opened", counts.get("click", 0)), ("rated useful", counts.get("useful", 0)),
                ("full texts requested", counts.get("full_text_request", 0))]
    return out


def gather(n: Notifier, organisation_id: str, year: int, month: int, *, period: Period | None = None) -> Briefing:
    """The briefing of one organisation's month, from notify's store."""
    period = period or Period(year, month, Period(year, month, date(year, month, 1)).month_end)
    start, end = month_bounds(period.year, period.month, n.tz)
    matched, reached = matched_items(n, organisation_id, start, end)
    scanned = n.store.items_between(start, end)
    national = [_brief(r) for r in scanned if EvidenceType(r.evidence_type) in NATIONAL]
    history, labels = [], []
    for back in range(1, n.settings.baseline_months + 1):
        y, m = previous_month(period.year, period.month, back)
        b_start, b_end = month_bounds(y, m, n.tz)
        earlier = {b.item.item_id: b for b in [_brief(r) for r in n.store.items_between(b_start, b_end)
                                                   if EvidenceType(r.evidence_type) in NATIONAL]}
        earlier |= {b.item.item_id: b for b in matched_items(n, organisation_id, b_start, b_end)[0]}
        history.append(theme_counts(list(earlier.values())))
        labels.insert(0, date(y, m, 1).strftime("%b %Y"))
    labels.append(date(period.year, period.month, 1).strftime("%b %Y"))
    return build_briefing(
        period, matched, national, history, figures(n, organisation_id, start, end, len(scanned), len(matched), reached),
        labels, staff_reached=reached,
    )


def run_briefings(n: Notifier, now: datetime, *, force: bool = False,
                  month: tuple[int, int] | None = None) -> list[DigestSent]:
    """Send each organisation's briefing to its board members, once per month.

    Normally the briefing for last month goes from the 1st at `briefing_hour`; force=True sends
    the current month so far instead, and `month` a given month now (demos).
    """
    p = period_of(now, n.tz, n.settings.briefing_hour, force=force, month=month)
    period = month_key(p.year, p.month)
    sent: list[DigestSent] = []
    for org, people in board_members(n, period).items():
        briefing = gather(n, org, p.year, p.month, period=p)
        if briefing.empty:
            log.info("nothing to brief", extra={"organisation_id": org, "period": period})
            continue
        chart = theme_chart_png(briefing.trend, colour=n.brand.primary, width_in=4.0, font=9)
        printed = theme_chart_png(briefing.trend, colour=n.brand.primary)
        pdfs: dict[str, Attachment | None] = {}
        for sid, profile in people:
            recipient = Recipient(sid, org, profile.name, profile.email)
            name = profile.organisation_name
            if n.settings.briefing_pdf and name not in pdfs:
                pdfs[name] = briefing_pdf(n, briefing, organisation=name, period=period, chart=printed, now=now)
            pdf = pdfs.get(name)
            rendered = render_briefing(
                briefing, recipient=recipient, organisation=name, digest_id=delivery_id(sid, "briefing", period),
                brand=n.brand, links=n.links, chart=bool(chart), pdf=pdf is not None,
            )
            if chart:
                rendered = with_attachment(rendered, Attachment("themes.png", "image/png", chart, content_id=CHART_ID))
            rendered = with_attachment(rendered, pdf)
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


def briefing_pdf(n: Notifier, briefing: Briefing, *, organisation: str, period: str, chart: bytes | None,
                 now: datetime) -> Attachment | None:
    """The briefing as a PDF attachment; None (and an error logged) if it cannot be made, so
    that the e-mail still goes."""
    prepared = now.astimezone(n.tz).strftime("%-d %B %Y")
    html = render_briefing_print(briefing, organisation=organisation, brand=n.brand, prepared=prepared, chart=chart)
    try:
        data = html_to_pdf(html)
    except PdfUnavailable as exc:
        log.error("briefing PDF not made", extra={"period": period, "error": str(exc)})
        return None
    return Attachment(filename=f"board-briefing-{period}.pdf", content_type="application/pdf", data=data)


def with_attachment(rendered: Rendered, attachment: Attachment | None) -> Rendered:
    return rendered if attachment is None else replace(rendered, attachments=(*rendered.attachments, attachment))
