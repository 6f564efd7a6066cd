"""What went out and what came back, from the delivery and feedback logs (engagement.py writes them).

- `subscriber_history`: one subscriber's deliveries, newest first, each with its items and the
  opens (clicks), verdicts and full-text requests given on them; titles where notify sent them;
- `quiet_subscribers`: active subscribers who received nothing for `weeks` (the home page's flag);
- `week_summary`: what went out in the last 7 days, for the home page;
- `impact`: reach, deliveries, clicks and verdicts in a date range, per organisation, subscriber,
  source or topic, and per week for the trend chart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, select

from services.subscriptions.models import DeliveryLog, FeedbackLog, ProfileRow, Subscriber

VERDICTS = ("click", "useful", "not_relevant", "full_text_request")


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every stored one is UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


@dataclass
class DeliveredItem:
    item_id: str
    title: str
    verdicts: list[str] = field(default_factory=list)


@dataclass
class Delivery:
    digest_id: str
    kind: str
    period: str
    sent_at: datetime
    items: list[DeliveredItem]

    @property
    def opened(self) -> bool:
        """A click on any of its items (the only 'open' Horizon records: no tracking pixel)."""
        return any(i.verdicts for i in self.items)


@dataclass
class History:
    deliveries: list[Delivery]
    last_sent: datetime | None
    feedback: list[tuple[FeedbackLog, str]]  # each verdict with the item's title ("" when unknown)


def titles_of(session: Session, subscriber_id: str, item_ids: set[str], limit: int = 500) -> dict[str, str]:
    """Titles of items sent to a subscriber, as their delivery log holds them (notify's DigestSent
    carries them): feedback is only ever on items they were sent."""
    out: dict[str, str] = {}
    if not item_ids:
        return out
    for row in session.exec(select(DeliveryLog).where(DeliveryLog.subscriber_id == subscriber_id)
                            .order_by(DeliveryLog.sent_at.desc()).limit(limit)).all():  # type: ignore[union-attr]
        for item_id, title in zip(row.item_ids, row.item_titles):
            if item_id in item_ids and title and item_id not in out:
                out[item_id] = title
    return out


def subscriber_history(session: Session, subscriber_id: str, limit: int = 100) -> History:
    rows = session.exec(select(DeliveryLog).where(DeliveryLog.subscriber_id == subscriber_id)
                        .order_by(DeliveryLog.sent_at.desc()).limit(limit)).all()  # type: ignore[union-attr]
    fb = session.exec(select(FeedbackLog).where(FeedbackLog.subscriber_id == subscriber_id)
                      .order_by(FeedbackLog.occurred_at.desc()).limit(500)).all()  # type: ignore[union-attr]
    by_digest: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in fb:
        by_digest[(f.digest_id, f.item_id)].append(f.verdict)
    titles: dict[str, str] = {}
    deliveries = []
    for row in rows:
        items = []
        for i, item_id in enumerate(row.item_ids):
            title = row.item_titles[i] if i < len(row.item_titles) else ""
            titles.setdefault(item_id, title)
            items.append(DeliveredItem(item_id, title, sorted(set(by_digest.get((row.digest_id, item_id), [])))))
        deliveries.append(Delivery(row.digest_id, row.kind, row.period, aware(row.sent_at), items))
    missing = {f.item_id for f in fb if not titles.get(f.item_id)}
    titles.update(titles_of(session, subscriber_id, missing))
    return History(deliveries, deliveries[0].sent_at if deliveries else None,
                   [(f, titles.get(f.item_id, "")) for f in fb])


def last_sent(session: Session, subscriber_ids: list[str]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    if not subscriber_ids:
        return out
    for sid, sent in session.exec(select(DeliveryLog.subscriber_id, DeliveryLog.sent_at)
                                  .where(DeliveryLog.subscriber_id.in_(subscriber_ids))).all():  # type: ignore[attr-defined]
        sent = aware(sent)
        if sid not in out or sent > out[sid]:
            out[sid] = sent
    return out


def quiet_subscribers(session: Session, organisation_ids: set[str], weeks: int, at: datetime) -> list[tuple[Subscriber, datetime | None]]:
    """Active subscribers who were sent nothing in the last `weeks` weeks (and joined before that),
    with when they were last sent anything (None: never)."""
    since = at - timedelta(weeks=weeks)
    subs = session.exec(select(Subscriber).where(Subscriber.organisation_id.in_(organisation_ids),  # type: ignore[attr-defined]
                                                 Subscriber.status == "active").order_by(Subscriber.name)).all()
    sent = last_sent(session, [s.id for s in subs])
    return [(s, sent.get(s.id)) for s in subs
            if (sent.get(s.id) or aware(s.created_at)) < since]


@dataclass
class Figures:
    """Counts over a range: the same columns for every row of the impact report."""

    reach: int = 0
    deliveries: int = 0
    items: int = 0
    click: int = 0
    useful: int = 0
    not_relevant: int = 0
    full_text_request: int = 0
    reached: set = field(default_factory=set, repr=False)

    def add_delivery(self, row: DeliveryLog) -> None:
        self.deliveries += 1
        self.items += len(row.item_ids)
        if row.subscriber_id not in self.reached:
            self.reached.add(row.subscriber_id)
            self.reach += 1

    def add_verdict(self, verdict: str) -> None:
        if verdict in VERDICTS:
            setattr(self, verdict, getattr(self, verdict) + 1)


def week_summary(session: Session, organisation_ids: set[str], at: datetime) -> Figures:
    return impact(session, organisation_ids, at - timedelta(days=7), at, "organisation")[1].get("all", Figures())


def _range_rows(session: Session, organisation_ids: set[str], start: datetime, end: datetime):
    deliveries = session.exec(select(DeliveryLog).where(
        DeliveryLog.organisation_id.in_(organisation_ids),  # type: ignore[attr-defined]
        DeliveryLog.sent_at >= start, DeliveryLog.sent_at < end)).all()  # type: ignore[operator]
    feedback = session.exec(select(FeedbackLog).where(
        FeedbackLog.organisation_id.in_(organisation_ids),  # type: ignore[attr-defined]
        FeedbackLog.occurred_at >= start, FeedbackLog.occurred_at < end)).all()  # type: ignore[operator]
    return deliveries, feedback


def impact(session: Session, organisation_ids: set[str], start: datetime, end: datetime, by: str,
           item_sources: dict[str, str] | None = None) -> tuple[dict[str, Figures], dict[str, Figures]]:
    """Figures in [start, end) grouped `by` 'organisation', 'subscriber', 'topic' or 'source'
    (an item's source as `item_sources` names it, when known), and the totals under 'all'.

    A subscriber's topics stand for the topics of what they were sent: items carry no topic in the
    logs, so 'topic' counts each delivery once under each topic of its recipient's profile."""
    deliveries, feedback = _range_rows(session, organisation_ids, start, end)
    groups: dict[str, Figures] = defaultdict(Figures)
    total = Figures()
    topics_of: dict[str, list[str]] = {}
    if by == "topic":
        ids = {d.subscriber_id for d in deliveries} | {f.subscriber_id for f in feedback}
        for prof in session.exec(select(ProfileRow).where(ProfileRow.subscriber_id.in_(ids))).all():  # type: ignore[attr-defined]
            topics_of[prof.subscriber_id] = list(prof.topics) or ["(no topic)"]

    def keys(organisation_id: str, subscriber_id: str, item_ids: list[str]) -> list[str]:
        if by == "subscriber":
            return [subscriber_id]
        if by == "topic":
            return topics_of.get(subscriber_id, ["(no topic)"])
        if by == "source":
            return sorted({(item_sources or {}).get(i, "(source unknown)") for i in item_ids}) or ["(source unknown)"]
        return [organisation_id]

    for d in deliveries:
        total.add_delivery(d)
        for key in keys(d.organisation_id, d.subscriber_id, d.item_ids):
            groups[key].add_delivery(d)
    for f in feedback:
        total.add_verdict(f.verdict)
        for key in keys(f.organisation_id, f.subscriber_id, [f.item_id]):
            groups[key].add_verdict(f.verdict)
    return dict(groups), {"all": total}


def weekly_trend(session: Session, organisation_ids: set[str], start: datetime, end: datetime) -> list[tuple[datetime, int, int]]:
    """(week start, deliveries, clicks) for each week from start to end."""
    deliveries, feedback = _range_rows(session, organisation_ids, start, end)
    sent = Counter((aware(d.sent_at) - start).days // 7 for d in deliveries)
    clicks = Counter((aware(f.occurred_at) - start).days // 7 for f in feedback if f.verdict == "click")
    weeks = max(1, -(-(end - start).days // 7))
    return [(start + timedelta(weeks=w), sent[w], clicks[w]) for w in range(weeks)]
