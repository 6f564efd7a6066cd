"""Leases on intents being sent: which notify instance is sending a 'sending' row, until when.

An instance records its intents holding a lease (owner, lease_until) and renews it while it
sends. Resuming unfinished intents, an instance takes only rows whose lease is free, has run
out, or is its own, and takes them with one conditional UPDATE, so two instances never both
take a row: after a rebalance the new owner of a subscriber leaves alone what the old owner is
still sending, and picks up what a dead instance left once its lease has run out. A lease ends
when the row is marked sent or failed, or when its instance closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select, tuple_, update

from services.notify.apply import chunks
from services.notify.store import NotifyStore
from services.notify.tables import Delivery, DeliveryRow, ScheduleRow, as_utc


def _free(me: str, now: datetime):  # type: ignore[no-untyped-def]
    return or_(DeliveryRow.lease_until == None, DeliveryRow.lease_until <= as_utc(now), DeliveryRow.owner == me)  # type: ignore[operator]  # noqa: E711


class Leases:
    def __init__(self, store: NotifyStore, owner: str) -> None:
        self.store = store
        self.owner = owner

    def take_unfinished(
        self, now: datetime, until: datetime, *, after: tuple[str, str, str] | None, limit: int,
        partitions: frozenset[int] | None,
    ) -> tuple[list[Delivery], tuple[str, str, str] | None, set[tuple[str, str, str]]]:
        """Lease the next `limit` unfinished intents due for a retry (after `after`, in key order,
        of subscribers in `partitions`) whose lease is free; (rows now held, last key looked at,
        keys of those an instance still held: handed over for sending, outcome never recorded)."""
        key = tuple_(DeliveryRow.subscriber_id, DeliveryRow.kind, DeliveryRow.period)
        due = and_(
            DeliveryRow.status == "sending",
            or_(DeliveryRow.next_attempt_at == None, DeliveryRow.next_attempt_at <= as_utc(now)),  # type: ignore[operator]  # noqa: E711
            _free(self.owner, now),
        )
        query = select(DeliveryRow.subscriber_id, DeliveryRow.kind, DeliveryRow.period, DeliveryRow.owner).where(due)
        if partitions is not None:
            if not partitions:
                return [], None, set()
            query = query.join(ScheduleRow, ScheduleRow.subscriber_id == DeliveryRow.subscriber_id).where(
                ScheduleRow.partition.in_(sorted(partitions))  # type: ignore[union-attr]
            )
        if after is not None:
            query = query.where(key > tuple_(*after))
        with self.store.session() as s:
            found = s.exec(query.order_by(*key).limit(limit)).all()  # type: ignore[call-overload]
            keys = [tuple(k[:3]) for k in found]
            # a recorded failure or a clean shutdown clears the owner: one left means the sender stopped mid-send
            interrupted = {tuple(k[:3]) for k in found if k[3] is not None}
            if not keys:
                return [], None, set()
            # the same conditions again: of two instances racing for a row, one updates it
            s.exec(update(DeliveryRow).where(key.in_(keys), due).values(owner=self.owner, lease_until=as_utc(until)))  # type: ignore[call-overload]
            s.commit()
            held = s.exec(select(DeliveryRow).where(
                key.in_(keys), DeliveryRow.owner == self.owner, DeliveryRow.status == "sending",
            ).order_by(*key)).scalars().all()  # type: ignore[call-overload]
        return [Delivery.of(row) for row in held], keys[-1], interrupted

    def renew(self, rows: Sequence[Delivery], until: datetime) -> int:
        """Extend this instance's lease on rows still being sent; how many it still holds."""
        table = DeliveryRow.__table__  # type: ignore[attr-defined]
        stmt = update(table).where(
            table.c.subscriber_id == bindparam("sid"), table.c.kind == bindparam("k"), table.c.period == bindparam("p"),
            table.c.owner == self.owner, table.c.status == "sending",
        ).values(lease_until=as_utc(until))
        held = 0
        with self.store.session() as s:
            for part in chunks(list(rows)):
                result = s.connection().execute(stmt, [{"sid": r.subscriber_id, "k": r.kind, "p": r.period} for r in part])
                held += max(result.rowcount or 0, 0)
            s.commit()
        return held

    def release_all(self) -> None:
        """Give up every lease this instance holds (it is closing and sends nothing more)."""
        with self.store.session() as s:
            s.exec(update(DeliveryRow).where(  # type: ignore[call-overload]
                DeliveryRow.owner == self.owner, DeliveryRow.status == "sending",
            ).values(owner=None, lease_until=None))
            s.commit()
