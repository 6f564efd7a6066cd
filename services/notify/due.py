"""The scheduler's view of who is due: pages of subscribers read from the schedule table.

A round visits due subscribers in pages of `page_size`, in subscriber-id order, each page
starting after the last id of the one before (keyset pagination, no OFFSET): every subscriber
due when the round reaches them is visited once, however many there are, and a page never holds
more than `page_size` profiles and those subscribers' pending items. A visit ends by settling
the subscriber's row (what still waits, when next due), unless an event changed it meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select, update

from contracts import EvidenceType, Item, MatchReason, Profile, TopicTag
from services.notify.apply import chunks, insert_for, refresh_pending
from services.notify.digest import Candidate
from services.notify.ownership import default_partition
from services.notify.store import NotifyStore
from services.notify.tables import ItemRow, MatchRow, ScheduleRow, SubscriberRow, as_utc, aware

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    """One subscriber to visit: who they are, what they want, and the row's `seq` as read."""

    subscriber_id: str
    organisation_id: str
    profile: Profile
    seq: int
    partition: int | None


@dataclass(frozen=True)
class Page:
    """One page: the subscribers to visit, and the last id read (where the next page starts)."""

    due: list[Due]
    last: str | None

    def __bool__(self) -> bool:
        return self.last is not None


@dataclass(frozen=True)
class Settled:
    """A visited subscriber's row as the visit left it."""

    subscriber_id: str
    seq: int
    pending: bool
    urgent_pending: bool
    next_due_at: datetime


# A due subscriber as a page reads them: the columns a visit needs, not whole rows (a page of
# thousands is read every round).
_DUE = select(  # type: ignore[call-overload]
    ScheduleRow.subscriber_id, ScheduleRow.seq, ScheduleRow.partition,
    SubscriberRow.organisation_id, SubscriberRow.profile, SubscriberRow.deleted,
).join(SubscriberRow, SubscriberRow.subscriber_id == ScheduleRow.subscriber_id)


class Schedule:
    def __init__(self, store: NotifyStore) -> None:
        self.store = store

    def due_page(
        self, now: datetime, *, after: str | None, limit: int, partitions: frozenset[int] | None, force: bool
    ) -> Page:
        """The next `limit` subscribers with something to send that are due at `now`, after `after`.

        Due: this period's digest time has come, or an urgent item waits for someone who wants
        alerts; force: anyone with something to send. Only the `partitions` given (None: all).
        """
        query = _DUE.where(ScheduleRow.live == True, ScheduleRow.pending == True)  # noqa: E712
        if not force:
            query = query.where(or_(
                ScheduleRow.next_due_at == None, ScheduleRow.next_due_at <= as_utc(now),  # type: ignore[operator]  # noqa: E711
                and_(ScheduleRow.urgent_pending == True, ScheduleRow.alerts == True),  # noqa: E712
            ))
        return self._page(query, after=after, limit=limit, partitions=partitions)

    def board_page(self, *, after: str | None, limit: int, partitions: frozenset[int] | None) -> Page:
        """The next `limit` board members (live, wanting the briefing), after `after`."""
        return self._page(_DUE.where(ScheduleRow.board == True), after=after, limit=limit, partitions=partitions)  # noqa: E712

    def _page(self, query, *, after: str | None, limit: int, partitions: frozenset[int] | None) -> Page:  # type: ignore[no-untyped-def]
        if partitions is not None:
            if not partitions:
                return Page([], None)
            query = query.where(ScheduleRow.partition.in_(sorted(partitions)))  # type: ignore[union-attr]
        if after is not None:
            query = query.where(ScheduleRow.subscriber_id > after)
        query = query.order_by(ScheduleRow.subscriber_id).limit(limit)
        with self.store.session() as s:
            rows = s.exec(query).all()
        due = [
            Due(sid, organisation_id, Profile.model_validate(profile), seq, partition)
            for sid, seq, partition, organisation_id, profile, deleted in rows if profile and not deleted
        ]
        return Page(due, rows[-1][0] if rows else None)

    def candidates(self, subscriber_ids: Sequence[str]) -> dict[str, list[Candidate]]:
        """The pending items of these subscribers: matched, classified, not yet taken."""
        matches = (MatchRow.subscriber_id, MatchRow.item_id, MatchRow.score, MatchRow.urgent, MatchRow.matched_at, MatchRow.reasons)
        with self.store.session() as s:
            rows = [
                row for part in chunks(sorted(subscriber_ids))
                for row in s.exec(select(*matches).where(  # type: ignore[call-overload]
                    MatchRow.subscriber_id.in_(part), MatchRow.delivery == None,  # type: ignore[attr-defined]  # noqa: E711
                )).all()
            ]
            # subscribers share items: each is read and validated once a page, not once a match
            items = {
                item_id: (Item.model_validate(item), EvidenceType(evidence), urgent, tuple(TopicTag.model_validate(t) for t in tags))
                for part in chunks(sorted({row[1] for row in rows}))
                for item_id, item, evidence, urgent, tags in s.exec(select(  # type: ignore[call-overload]
                    ItemRow.item_id, ItemRow.item, ItemRow.evidence_type, ItemRow.urgent, ItemRow.tags,
                ).where(ItemRow.item_id.in_(part))).all()  # type: ignore[attr-defined]
            }
        out: dict[str, list[Candidate]] = {}
        for sid, item_id, score, urgent, matched_at, reasons in rows:
            if item_id not in items:  # matched, not yet classified here: it waits for its ItemClassified
                continue
            item, evidence, item_urgent, tags = items[item_id]
            out.setdefault(sid, []).append(Candidate(
                item=item, score=score, evidence_type=evidence, urgent=urgent or item_urgent, matched_at=aware(matched_at),
                reasons=tuple(MatchReason.model_validate(r) for r in reasons), tags=tags,
            ))
        return out

    def settle(self, visits: Sequence[Settled]) -> int:
        """Record what each visit left; a row whose `seq` moved on (an event came in since it
        was read) is left as the event made it, to be visited again. Rows settled."""
        if not visits:
            return 0
        table = ScheduleRow.__table__  # type: ignore[attr-defined]
        stmt = (
            update(table)
            .where(table.c.subscriber_id == bindparam("sid"), table.c.seq == bindparam("seen"))
            .values(pending=bindparam("pending"), urgent_pending=bindparam("urgent"), next_due_at=bindparam("due"))
        )
        params = [
            {"sid": v.subscriber_id, "seen": v.seq, "pending": v.pending, "urgent": v.urgent_pending, "due": as_utc(v.next_due_at)}
            for v in sorted(visits, key=lambda v: v.subscriber_id)
        ]
        with self.store.session() as s:
            result = s.connection().execute(stmt, params)
            s.commit()
        return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(params)

    def backfill(self, page_size: int = 500) -> int:
        """Give every subscriber without a schedule row one (a database from before the schedule
        table), page by page; how many were added."""
        added = 0
        missing = ~select(ScheduleRow.subscriber_id).where(ScheduleRow.subscriber_id == SubscriberRow.subscriber_id).exists()
        while True:
            with self.store.session() as s:
                rows = s.exec(select(SubscriberRow).where(missing).order_by(SubscriberRow.subscriber_id).limit(page_size)).scalars().all()  # type: ignore[call-overload]
                if not rows:
                    break
                s.exec(insert_for(s)(ScheduleRow).on_conflict_do_nothing(index_elements=["subscriber_id"]), params=[  # type: ignore[call-overload]
                    _schedule_of(r) for r in rows
                ])
                refresh_pending(s, [r.subscriber_id for r in rows])
                s.commit()
            added += len(rows)
        if added:
            log.warning("schedule rows added for an older database", extra={"subscribers": added})
        return added


def _schedule_of(row: SubscriberRow) -> dict[str, object]:
    profile = row.profile or {}
    live = not row.deleted and bool(profile) and bool(profile.get("active", True))
    return {
        "subscriber_id": row.subscriber_id, "partition": default_partition(row.subscriber_id), "live": live,
        "alerts": live and bool(profile.get("urgent_alerts", True)), "board": live and bool(profile.get("board_briefing", False)),
        "next_due_at": None, "seq": 1, "pending": False, "urgent_pending": False,
    }

