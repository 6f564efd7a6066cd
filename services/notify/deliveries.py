"""The delivery log: intents written before sending, then 'sent' (or 'failed'), and its outbox.

A delivery is claimed in one transaction that writes the finished message (with its
deterministic Message-ID) as status 'sending' and marks the matched items as taken by it. The
primary key (subscriber, kind, period) makes a second claim for the same period fail, so a
digest is never built twice. Rows marked sent but not yet `published` are the outbox of
DigestSent events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, insert, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from contracts import DigestSent, FeedbackGiven
from services.notify.apply import chunks
from services.notify.message import digest_sent_event_id
from services.notify.store import NotifyStore, aware, as_utc
from services.notify.tables import Delivery, DeliveryRow, FeedbackRow, ItemRow, MatchRow, ScheduleRow

if TYPE_CHECKING:
    from services.notify.compose import Intent


_DELIVERY = DeliveryRow.__table__  # type: ignore[attr-defined]


def delivery_tag(kind: str, period: str) -> str:
    """What a match row records as the delivery that took it."""
    return f"{kind}:{period}"


class DeliveryLog:
    """`keep_sent`: keep a sent message's bytes; by default a delivery drops them once sent (its
    facts stay: recipient, message id, items, times), so the log does not grow by every message."""

    def __init__(self, store: NotifyStore, keep_sent: bool = False) -> None:
        self.store = store
        self.keep_sent = keep_sent

    def claim(self, row: Delivery, take_item_ids: list[str]) -> bool:
        """Record the intent and take the items; False if this (subscriber, kind, period) exists."""
        with self.store.session() as s:
            if s.get(DeliveryRow, row.key) is not None:
                return False
            s.connection().execute(insert(_DELIVERY), [row.values()])
            if take_item_ids:
                s.exec(  # type: ignore[call-overload]
                    update(MatchRow)
                    .where(MatchRow.subscriber_id == row.subscriber_id, MatchRow.item_id.in_(take_item_ids))  # type: ignore[attr-defined]
                    .where(MatchRow.delivery == None)  # noqa: E711
                    .values(delivery=delivery_tag(row.kind, row.period))
                )
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
        return True

    def claim_all(self, intents: Sequence[Intent]) -> set[tuple[str, str, str]]:
        """Claim a page of intents in one transaction; the keys (subscriber, kind, period) this
        call recorded. An intent whose key exists already is not claimed; if another instance
        records one of them meanwhile, each is claimed on its own instead."""
        if not intents:
            return set()
        keys = [i.key for i in intents]
        try:
            with self.store.session() as s:
                taken = {
                    tuple(k) for part in chunks(sorted(keys))
                    for k in s.exec(select(DeliveryRow.subscriber_id, DeliveryRow.kind, DeliveryRow.period).where(  # type: ignore[call-overload]
                        tuple_(DeliveryRow.subscriber_id, DeliveryRow.kind, DeliveryRow.period).in_(part)
                    )).all()
                }
                fresh = [i for i in intents if i.key not in taken]
                if fresh:
                    s.connection().execute(insert(_DELIVERY), [i.row.values() for i in fresh])
                takes = [
                    {"sid": i.row.subscriber_id, "item": item, "tag": delivery_tag(i.row.kind, i.row.period)}
                    for i in fresh for item in i.take
                ]
                if takes:
                    table = MatchRow.__table__  # type: ignore[attr-defined]
                    s.connection().execute(
                        update(table).where(
                            table.c.subscriber_id == bindparam("sid"), table.c.item_id == bindparam("item"),
                            table.c.delivery == None,  # noqa: E711
                        ).values(delivery=bindparam("tag")),
                        takes,
                    )
                s.commit()
        except IntegrityError:
            return {i.key for i in intents if self.claim(i.row, list(i.take))}
        return {i.key for i in fresh}

    def existing(self, kind: str, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (subscriber, period) deliveries of `kind` are recorded."""
        found: set[tuple[str, str]] = set()
        with self.store.session() as s:
            for part in chunks(sorted(set(keys))):
                found.update(s.exec(select(DeliveryRow.subscriber_id, DeliveryRow.period).where(  # type: ignore[call-overload]
                    DeliveryRow.kind == kind, tuple_(DeliveryRow.subscriber_id, DeliveryRow.period).in_(part),
                )).all())
        return found

    def briefed_between(self, subscriber_ids: Sequence[str], start: datetime, end: datetime) -> set[str]:
        """Which of these subscribers had a briefing recorded in [start, end)."""
        found: set[str] = set()
        with self.store.session() as s:
            for part in chunks(sorted(set(subscriber_ids))):
                found.update(s.exec(select(DeliveryRow.subscriber_id).where(  # type: ignore[call-overload]
                    DeliveryRow.kind == "briefing", DeliveryRow.subscriber_id.in_(part),  # type: ignore[attr-defined]
                    DeliveryRow.created_at >= as_utc(start), DeliveryRow.created_at < as_utc(end),
                )).all())
        return found

    def count_like(self, subscriber_id: str, kind: str, period: str) -> int:
        """Deliveries of this subscriber and kind for `period` or its forced extras ('period.2', ...)."""
        with self.store.session() as s:
            return s.exec(
                select(func.count()).select_from(DeliveryRow).where(
                    DeliveryRow.subscriber_id == subscriber_id, DeliveryRow.kind == kind,
                    (DeliveryRow.period == period) | DeliveryRow.period.like(f"{period}.%"),  # type: ignore[attr-defined]
                )
            ).one()

    def of_subscriber(self, subscriber_id: str) -> list[DeliveryRow]:
        """One subscriber's deliveries, oldest first (what a librarian sees)."""
        with self.store.session() as s:
            return list(s.exec(select(DeliveryRow).where(DeliveryRow.subscriber_id == subscriber_id).order_by(DeliveryRow.created_at)).all())

    def count_digests(self, subscriber_id: str, period: str) -> int:
        return self.count_like(subscriber_id, "digest", period)

    def mark_all_sent(self, rows: Sequence[Delivery], at: datetime) -> list[Delivery]:
        """Mark these intents sent, in one transaction; the same rows, updated to match."""
        if not rows:
            return []
        table = _DELIVERY
        stmt = update(table).where(
            table.c.subscriber_id == bindparam("sid"), table.c.kind == bindparam("k"), table.c.period == bindparam("p"),
        ).values(status="sent", sent_at=as_utc(at), attempts=table.c.attempts + 1, last_error="", owner=None, lease_until=None,
                 **({} if self.keep_sent else {"raw": b""}))
        with self.store.session() as s:
            s.connection().execute(stmt, [{"sid": r.subscriber_id, "k": r.kind, "p": r.period} for r in rows])
            s.commit()
        for r in rows:
            r.status, r.sent_at, r.attempts, r.last_error = "sent", as_utc(at), r.attempts + 1, ""
            r.owner, r.lease_until = None, None
            if not self.keep_sent:
                r.raw = b""
        return list(rows)

    def mark_failed_attempt(
        self, row: Delivery, error: str, *, permanent: bool, max_runs: int, retry_at: datetime
    ) -> Delivery:
        """Count a failed run; after `max_runs` (or a permanent refusal) the delivery is 'failed'.
        The lease ends: whichever instance owns the subscriber then retries it at `retry_at`."""
        attempts = row.attempts + 1
        status = "failed" if permanent or attempts >= max_runs else "sending"
        return self._update(
            row, status=status, attempts=attempts, last_error=error[:1000], next_attempt_at=as_utc(retry_at),
            owner=None, lease_until=None,
        )

    def _update(self, row: Delivery, **values: object) -> Delivery:
        with self.store.session() as s:
            fresh = s.get(DeliveryRow, row.key)
            if fresh is None:  # the subscriber was deleted meanwhile
                return row
            for key, value in values.items():
                setattr(fresh, key, value)
            s.add(fresh)
            s.commit()
            return Delivery.of(fresh)

    # --- the outbox of events -------------------------------------------------------------

    def unpublished(self, limit: int = 500, partitions: frozenset[int] | None = None) -> list[DigestSent | FeedbackGiven]:
        """Up to `limit` each of DigestSent for sent deliveries and FeedbackGiven for recorded
        feedback not yet published (of subscribers in `partitions`; None: all). Callers loop
        until it comes back empty."""
        sent = select(DeliveryRow).where(DeliveryRow.status == "sent", DeliveryRow.published == False)  # noqa: E712
        feedback = select(FeedbackRow).where(FeedbackRow.published == False)  # noqa: E712
        if partitions is not None:
            if not partitions:
                return []
            owned = select(ScheduleRow.subscriber_id).where(ScheduleRow.partition.in_(sorted(partitions)))  # type: ignore[union-attr]
            sent = sent.where(DeliveryRow.subscriber_id.in_(owned))  # type: ignore[attr-defined]
            feedback = feedback.where(FeedbackRow.subscriber_id.in_(owned))  # type: ignore[attr-defined]
        with self.store.session() as s:
            rows = s.exec(sent.limit(limit)).all()
            given = s.exec(feedback.limit(limit)).all()
        titles = self.item_titles([i for r in rows for i in r.item_ids])
        return [digest_sent(r, titles) for r in rows] + [feedback_given(r) for r in given]

    def item_titles(self, item_ids: Sequence[str]) -> dict[str, str]:
        """Titles of the items named (a librarian's delivery log shows them); absent ones are left out."""
        title = ItemRow.item["title"].as_string()  # read by the database: the item's JSON is not decoded here
        out: dict[str, str] = {}
        with self.store.session() as s:
            for part in chunks(sorted(set(item_ids)), 500):
                for item_id, value in s.exec(select(ItemRow.item_id, title).where(ItemRow.item_id.in_(part))).all():  # type: ignore[attr-defined,call-overload]
                    out[item_id] = value or ""
        return out

    def mark_published(self, events: list[DigestSent | FeedbackGiven]) -> None:
        with self.store.session() as s:
            for e in events:
                if isinstance(e, DigestSent):
                    s.exec(update(DeliveryRow).where(  # type: ignore[call-overload]
                        DeliveryRow.subscriber_id == e.subscriber_id, DeliveryRow.kind == e.kind, DeliveryRow.period == e.period
                    ).values(published=True))
                else:
                    s.exec(update(FeedbackRow).where(FeedbackRow.event_id == e.event_id).values(published=True))  # type: ignore[call-overload]
            s.commit()

    def record_feedback(self, row: FeedbackRow) -> bool:
        """Record feedback once per event id; False if already recorded."""
        with self.store.session() as s:
            if s.get(FeedbackRow, row.event_id) is not None:
                return False
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
        return True

    def counts(self, organisation_id: str, start: datetime, end: datetime) -> dict[str, int]:
        """Deliveries and feedback of an organisation in [start, end), by kind and verdict."""
        with self.store.session() as s:
            sent = s.exec(select(DeliveryRow.kind, func.count()).where(
                DeliveryRow.organisation_id == organisation_id, DeliveryRow.status == "sent",
                DeliveryRow.sent_at >= as_utc(start), DeliveryRow.sent_at < as_utc(end),  # type: ignore[operator]
            ).group_by(DeliveryRow.kind)).all()
            fb = s.exec(select(FeedbackRow.verdict, func.count()).where(
                FeedbackRow.organisation_id == organisation_id,
                FeedbackRow.occurred_at >= as_utc(start), FeedbackRow.occurred_at < as_utc(end),
            ).group_by(FeedbackRow.verdict)).all()
        return {f"sent_{k}": n for k, n in sent} | {str(v): n for v, n in fb}


def digest_sent(row: Delivery | DeliveryRow, titles: dict[str, str] | None = None) -> DigestSent:
    return DigestSent(
        event_id=digest_sent_event_id(row.subscriber_id, row.kind, row.period),
        occurred_at=aware(row.sent_at or row.created_at),
        producer="notify",
        digest_id=row.digest_id,
        kind=row.kind,  # type: ignore[arg-type]
        subscriber_id=row.subscriber_id,
        organisation_id=row.organisation_id,
        period=row.period,
        item_ids=list(row.item_ids),
        item_titles=[(titles or {}).get(i, "") for i in row.item_ids] if titles else [],
        message_id=row.message_id,
        sent_at=aware(row.sent_at or row.created_at),
    )


def feedback_given(row: FeedbackRow) -> FeedbackGiven:
    return FeedbackGiven(
        event_id=row.event_id,
        occurred_at=aware(row.occurred_at),
        producer="notify",
        subscriber_id=row.subscriber_id,
        organisation_id=row.organisation_id,
        item_id=row.item_id,
        digest_id=row.digest_id,
        verdict=row.verdict,  # type: ignore[arg-type]
        title=row.title or "",
        url=row.url or "",
    )

