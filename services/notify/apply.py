"""Events applied to notify's state: one transaction per batch, idempotent on the event id.

A batch first claims its event ids (INSERT .. ON CONFLICT DO NOTHING RETURNING): only the ids
it gets back are new, so a repeated event (a batch redelivered, batches that overlap) changes
nothing, and when two consumers apply the same event at once the second waits on the first's
row and then finds it taken. The new events are applied in their order, a run of one type at a
time, each run with one read of the rows it touches and one write of them. Each run also keeps
the subscribers' schedule rows current (see tables.ScheduleRow), bumping their `seq`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from contracts import ItemClassified, ItemMatched, ProfileChanged
from services.notify.tables import (
    DeliveryRow, FeedbackRow, ItemRow, MatchRow, ProcessedEvent, ScheduleRow, SubscriberRow, as_utc,
)

log = logging.getLogger(__name__)

NotifyEvent = ItemClassified | ItemMatched | ProfileChanged
#: Rows per multi-row statement: far below SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500


def insert_for(s: Session) -> Callable[..., Any]:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def dated(published_at: datetime | None, classified_at: datetime) -> datetime:
    """The moment an item counts on in a briefing: published, or first seen if not dated or dated ahead."""
    if published_at is None or as_utc(published_at) > classified_at:
        return classified_at
    return as_utc(published_at)


def chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def apply_batch(
    s: Session, events: Sequence[NotifyEvent], partition_of: Callable[[str], int], now: datetime
) -> int:
    """Apply the events not applied before, in order; the number applied. The caller commits.

    `partition_of(subscriber_id)` names the partition of the matches topic a subscriber's
    events come from (recorded so that each notify instance schedules only its own).
    """
    fresh = claim_event_ids(s, [e.event_id for e in events], now)
    todo, seen = [], set()
    for event in events:
        if event.event_id in fresh and event.event_id not in seen:
            seen.add(event.event_id)
            todo.append(event)
    for kind, run in groupby(todo, key=type):
        batch = list(run)
        if kind is ItemClassified:
            apply_classified(s, batch)  # type: ignore[arg-type]
        elif kind is ItemMatched:
            apply_matched(s, batch, partition_of)  # type: ignore[arg-type]
        else:
            apply_profiles(s, batch, partition_of)  # type: ignore[arg-type]
    return len(todo)


def claim_event_ids(s: Session, event_ids: list[str], now: datetime) -> set[str]:
    """Record the ids as processed; the ones that were not recorded before."""
    fresh: set[str] = set()
    insert = insert_for(s)
    # sorted, so that two transactions claiming overlapping ids lock them in the same order
    for part in chunks(sorted(set(event_ids))):
        stmt = (
            insert(ProcessedEvent).values([{"event_id": i, "processed_at": as_utc(now)} for i in part])
            .on_conflict_do_nothing(index_elements=["event_id"]).returning(ProcessedEvent.event_id)
        )
        fresh.update(s.exec(stmt).scalars())  # type: ignore[call-overload]
    return fresh


def apply_classified(s: Session, events: list[ItemClassified]) -> None:
    latest: dict[str, dict[str, Any]] = {}
    for event in events:  # the batch's last word on each item, its highest revision winning
        known = latest.get(event.item.item_id)
        if known is not None and known["revision"] > event.revision:
            continue
        latest[event.item.item_id] = {
            "item_id": event.item.item_id, "revision": event.revision, "item": event.item.model_dump(mode="json"),
            "tags": [t.model_dump(mode="json") for t in event.tags], "evidence_type": str(event.evidence_type),
            "urgent": event.urgent,
            "classified_at": known["classified_at"] if known else as_utc(event.occurred_at),
        }
        latest[event.item.item_id]["dated_at"] = dated(event.item.published_at, latest[event.item.item_id]["classified_at"])
    stmt = insert_for(s)(ItemRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["item_id"],
        set_={k: stmt.excluded[k] for k in ("revision", "item", "tags", "evidence_type", "urgent")},
        where=ItemRow.revision <= stmt.excluded.revision,  # an older revision arriving late changes nothing
    )
    ids = sorted(latest)
    s.exec(stmt, params=[latest[i] for i in ids])  # type: ignore[call-overload]
    # Matches that came before their item become something to send now.
    for part in chunks(ids):
        _wake(s, part)


def _wake(s: Session, item_ids: Sequence[str]) -> None:
    untaken = select(MatchRow.subscriber_id).where(MatchRow.item_id.in_(item_ids), MatchRow.delivery == None)  # type: ignore[attr-defined]  # noqa: E711
    urgent = untaken.join(ItemRow, ItemRow.item_id == MatchRow.item_id).where(ItemRow.urgent == True)  # noqa: E712
    s.exec(update(ScheduleRow).where(ScheduleRow.subscriber_id.in_(untaken)).values(  # type: ignore[call-overload,attr-defined]
        pending=True, seq=ScheduleRow.seq + 1,
    ))
    s.exec(update(ScheduleRow).where(ScheduleRow.subscriber_id.in_(urgent)).values(urgent_pending=True))  # type: ignore[call-overload,attr-defined]


def apply_matched(s: Session, events: list[ItemMatched], partition_of: Callable[[str], int]) -> None:
    """Store each match (a match may come before its subscriber's profile: it waits for it, and
    nothing is sent to a subscriber notify has no profile of). A match for a deleted subscriber,
    or naming another organisation than the subscriber's profile, is dropped: the organisation
    decides whose board briefing an item counts in, and only subscriptions says what it is."""
    sids = sorted({e.subscriber_id for e in events})
    known = {
        sid: (deleted, organisation_id) for part in chunks(sids)
        for sid, deleted, organisation_id in s.exec(select(  # type: ignore[call-overload]
            SubscriberRow.subscriber_id, SubscriberRow.deleted, SubscriberRow.organisation_id
        ).where(SubscriberRow.subscriber_id.in_(part))).all()  # type: ignore[attr-defined]
    }
    deleted = {sid for sid, (gone, _) in known.items() if gone}
    foreign = {e.event_id for e in events if e.subscriber_id in known and e.subscriber_id not in deleted
               and known[e.subscriber_id][1] != e.organisation_id}
    for event in events:
        if event.event_id in foreign:
            log.warning("match naming another organisation than its subscriber's dropped",
                        extra={"subscriber_id": event.subscriber_id, "event_id": event.event_id,
                               "organisation_id": event.organisation_id})
    events = [e for e in events if e.event_id not in foreign]
    keys = sorted({(e.subscriber_id, e.item_id) for e in events if e.subscriber_id not in deleted})
    stored = {  # (subscriber, item) -> (urgent, delivery) of the matches already stored
        (sid, item): (urgent, delivery) for part in chunks(keys)
        for sid, item, urgent, delivery in s.exec(select(  # type: ignore[call-overload]
            MatchRow.subscriber_id, MatchRow.item_id, MatchRow.urgent, MatchRow.delivery
        ).where(tuple_(MatchRow.subscriber_id, MatchRow.item_id).in_(part))).all()
    }
    items = {
        item_id: urgent for part in chunks(sorted({item for _, item in keys}))
        for item_id, urgent in s.exec(select(ItemRow.item_id, ItemRow.urgent).where(ItemRow.item_id.in_(part))).all()  # type: ignore[call-overload,attr-defined]
    }
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        if event.subscriber_id in deleted:
            log.info("match for a deleted subscriber dropped", extra={"subscriber_id": event.subscriber_id, "event_id": event.event_id})
            continue
        key = (event.subscriber_id, event.item_id)
        first = latest.get(key)
        # a re-match (a revised item) refreshes why; the delivery that took it stays
        latest[key] = {
            "subscriber_id": event.subscriber_id, "item_id": event.item_id, "organisation_id": event.organisation_id,
            "score": event.score, "reasons": [r.model_dump(mode="json") for r in event.reasons],
            "evidence_type": str(event.evidence_type), "urgent": event.urgent or bool(first and first["urgent"]),
            "matched_at": first["matched_at"] if first else as_utc(event.occurred_at),
        }
    stmt = insert_for(s)(MatchRow)
    stmt = stmt.on_conflict_do_update(index_elements=["subscriber_id", "item_id"], set_={
        "score": stmt.excluded.score, "reasons": stmt.excluded.reasons, "evidence_type": stmt.excluded.evidence_type,
        "urgent": or_(MatchRow.urgent, stmt.excluded.urgent),
    })
    if latest:
        s.exec(stmt, params=[latest[k] for k in sorted(latest)])  # type: ignore[call-overload]
    waiting: dict[str, list[bool]] = {}  # subscriber -> [something classified to send, something urgent]
    for (sid, item), row in latest.items():
        flags = waiting.setdefault(sid, [False, False])
        urgent, delivery = stored.get((sid, item), (False, None))
        if delivery is None and item in items:
            flags[0] = True
            flags[1] = flags[1] or urgent or row["urgent"] or items[item]
    stmt = insert_for(s)(ScheduleRow)
    stmt = stmt.on_conflict_do_update(index_elements=["subscriber_id"], set_={
        "partition": stmt.excluded.partition,
        "pending": or_(ScheduleRow.pending, stmt.excluded.pending),
        "urgent_pending": or_(ScheduleRow.urgent_pending, stmt.excluded.urgent_pending),
        "seq": ScheduleRow.seq + 1,
    })
    params = [
        {"subscriber_id": sid, "partition": partition_of(sid), "pending": pending, "urgent_pending": urgent, "seq": 1}
        for sid, (pending, urgent) in sorted(waiting.items())
    ]
    if params:
        s.exec(stmt, params=params)  # type: ignore[call-overload]


def apply_profiles(s: Session, events: list[ProfileChanged], partition_of: Callable[[str], int]) -> None:
    sids = sorted({e.subscriber_id for e in events})
    versions = {
        sid: version for part in chunks(sids)
        for sid, version in s.exec(select(SubscriberRow.subscriber_id, SubscriberRow.version).where(  # type: ignore[call-overload]
            SubscriberRow.subscriber_id.in_(part)  # type: ignore[attr-defined]
        )).all()
    }
    latest: dict[str, dict[str, Any]] = {}
    forgotten: set[str] = set()
    for event in events:
        if event.subscriber_id in versions and versions[event.subscriber_id] >= event.version:
            log.info("stale profile version ignored", extra={"subscriber_id": event.subscriber_id, "event_id": event.event_id})
            continue
        versions[event.subscriber_id] = event.version
        if event.deleted:
            forgotten.add(event.subscriber_id)
        latest[event.subscriber_id] = {
            "subscriber_id": event.subscriber_id, "organisation_id": event.organisation_id, "version": event.version,
            "deleted": event.deleted, "profile": event.profile.model_dump(mode="json") if event.profile else None,
        }
    if not latest:
        return
    # A tombstone forgets the subscriber's matches, deliveries and feedback (a profile re-created
    # after it in the same batch starts empty, as it would have one event at a time).
    for part in chunks(sorted(forgotten)):
        for table in (MatchRow, DeliveryRow, FeedbackRow):
            s.exec(delete(table).where(table.subscriber_id.in_(part)))  # type: ignore[call-overload,attr-defined]
    stmt = insert_for(s)(SubscriberRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["subscriber_id"],
        set_={k: stmt.excluded[k] for k in ("organisation_id", "version", "deleted", "profile")},
        where=SubscriberRow.version < stmt.excluded.version,
    )
    s.exec(stmt, params=[latest[sid] for sid in sorted(latest)])  # type: ignore[call-overload]
    _schedule_profiles(s, latest, forgotten, partition_of)


def _schedule_profiles(s: Session, changed: dict[str, dict[str, Any]], forgotten: set[str],
                       partition_of: Callable[[str], int]) -> None:
    """A changed profile: who to send to and what they want; the next visit works out when. A
    tombstone's matches are gone with it: nothing of theirs waits any more."""
    stmt = insert_for(s)(ScheduleRow)
    stmt = stmt.on_conflict_do_update(index_elements=["subscriber_id"], set_={
        # the partition a match came from stands; a profile alone gets the partitioner's answer
        "partition": func.coalesce(ScheduleRow.partition, stmt.excluded.partition),
        "live": stmt.excluded.live, "alerts": stmt.excluded.alerts, "board": stmt.excluded.board,
        "next_due_at": None, "seq": ScheduleRow.seq + 1,
    })
    params = []
    for sid, row in sorted(changed.items()):
        profile = row["profile"] or {}
        live = not row["deleted"] and bool(profile) and bool(profile.get("active", True))
        params.append({
            "subscriber_id": sid, "partition": partition_of(sid), "live": live, "seq": 1, "next_due_at": None,
            "alerts": live and bool(profile.get("urgent_alerts", True)),
            "board": live and bool(profile.get("board_briefing", False)),
        })
    s.exec(stmt, params=params)  # type: ignore[call-overload]
    for part in chunks(sorted(forgotten)):
        s.exec(update(ScheduleRow).where(ScheduleRow.subscriber_id.in_(part)).values(  # type: ignore[call-overload,attr-defined]
            pending=False, urgent_pending=False))
    # Matches may have come before the profile: count what waits.
    for part in chunks(sorted(changed)):
        refresh_pending(s, part)


def refresh_pending(s: Session, subscriber_ids: Sequence[str]) -> None:
    """Raise `pending` and `urgent_pending` of these subscribers where their matches and items say
    something waits. Only ever raised here: a statement reading an older snapshot than a concurrent
    batch's (READ COMMITTED) must not clear what that batch set; the scheduler's visit clears them."""
    waiting = (
        select(MatchRow.subscriber_id).join(ItemRow, ItemRow.item_id == MatchRow.item_id)
        .where(MatchRow.subscriber_id == ScheduleRow.subscriber_id, MatchRow.delivery == None)  # noqa: E711
    )
    urgent = waiting.where(or_(MatchRow.urgent == True, ItemRow.urgent == True))  # noqa: E712
    s.exec(update(ScheduleRow).where(ScheduleRow.subscriber_id.in_(subscriber_ids)).values(  # type: ignore[call-overload,attr-defined]
        pending=or_(ScheduleRow.pending, exists(waiting)), urgent_pending=or_(ScheduleRow.urgent_pending, exists(urgent)),
        seq=ScheduleRow.seq + 1,
    ))


def recheck(s: Session, events: Sequence[NotifyEvent]) -> None:
    """After a batch has committed, look again at what it could not see: a match and its item
    (or a match and a profile) applied at the same instant by two transactions each see nothing
    of the other, and neither marks the subscriber pending. Run after each commit, the later of
    the two sees both (every statement reads what was committed before it began)."""
    items = sorted({e.item.item_id for e in events if isinstance(e, ItemClassified)})
    subscribers = sorted({e.subscriber_id for e in events if not isinstance(e, ItemClassified)})
    for part in chunks(items):
        _wake(s, part)
    for part in chunks(subscribers):
        refresh_pending(s, part)
