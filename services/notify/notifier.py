"""The notify use cases: take events in, send what is due, and never send a period twice.

Sending follows one protocol for digests, alerts and briefings:
1. compose the message and record it as an intent ('sending', with its deterministic
   Message-ID and the exact bytes), taking its items, in one transaction;
2. hand the bytes to the transport;
3. mark it 'sent'.
A crash between 2 and 3 leaves an intent that the next run resends, byte for byte, with the
same Message-ID. We choose resending over assuming it went out: SMTP gives no way to ask a
server whether it received a message, so "assume sent" could lose a digest silently, while a
duplicate with the same Message-ID is recognised by receiving systems and mail clients (and
the outbox transport simply rewrites the same file). The window is the instant between the
server's 250 and our commit, so duplicates are rare; losses would be silent.

At volume the steps work a page of subscribers at a time: step 1 records the page's intents in
one transaction; step 2 sends them on several SMTP connections at once; step 3 records the
outcomes in groups as they come in, at least every RECORD_EVERY_S (0.1 s), so the window above
is at most that long, not a page long. A transport that sends one message at a time has each
outcome recorded before the next message goes, as before.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from contracts import DigestSent, FeedbackGiven, ItemRouted, ItemUnrouted
from services.common.kafka import partition_of as key_partition
from services.notify.branding import Branding
from services.notify import metrics
from services.notify import unrouted
from services.notify.briefings import run_briefings
from services.notify.compose import Composer, Intent, Visit, quiet_day, visited
from services.notify.compose_pool import ComposePool
from services.notify.deliveries import DeliveryLog, digest_sent
from services.notify.due import Due, Page, Schedule
from services.notify.leases import Leases
from services.notify.links import Links
from services.notify.mailer import Outgoing, SendResult, Transport, safe_name, send_each
from services.notify.ownership import Ownership
from services.notify.schedule import local_instant, period_key
from services.notify.settings import NotifySettings
from services.notify.store import NotifyEvent, NotifyStore
from services.notify.tables import Delivery

log = logging.getLogger(__name__)

#: Outcomes of a parallel send are recorded in groups: once this many are in, or once the
#: oldest has waited this long. Each group is one transaction (SQLite rewrites a row's whole
#: message to update it, so one commit per message would cost more than the sending), and the
#: crash window of the protocol above stays this short.
RECORD_BATCH = 64
RECORD_EVERY_S = 0.1


@dataclass(frozen=True)
class Composing:
    """A page's visits, and the intents being composed for them (one list per visit)."""

    jobs: list[Visit]
    intents: Future[list[list[Intent]]]


class Notifier:
    """Builds and delivers digests, alerts and briefings from notify's store."""

    def __init__(
        self, settings: NotifySettings, store: NotifyStore, transport: Transport, links: Links,
        ownership: Ownership | None = None,
    ) -> None:
        self.settings = settings
        self.ownership = ownership or Ownership()
        self.store = store
        self.log = DeliveryLog(store, self.settings.keep_sent_messages)
        self.schedule = Schedule(store)
        self.transport = transport
        self.links = links
        self.tz = ZoneInfo(settings.timezone)
        self.brand = Branding(
            settings.library_name, settings.library_logo_url, settings.colour_primary,
            settings.colour_text, settings.colour_background,
        )
        self.composer = Composer(settings, links, self.brand, self.tz)
        self.compose_pool = ComposePool(settings, self.composer, settings.compose_processes)
        self.instance = settings.instance_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.leases = Leases(store, self.instance)
        self._round = (datetime.now(timezone.utc), time.monotonic())
        self.stopping = threading.Event()  # set on shutdown: a round ends after its current page
        self._closed = False
        self.schedule.backfill(settings.page_size)

    # --- events in ------------------------------------------------------------------------

    def handle(self, event: NotifyEvent) -> None:
        """Apply one event to the state; a repeated event id changes nothing."""
        applied = self.handle_batch([event])
        log.debug("event handled", extra={"event_id": event.event_id, "applied": applied == 1})

    def handle_batch(self, events: Sequence[NotifyEvent], partitions: Mapping[str, int] | None = None) -> int:
        """Apply a batch in one transaction; how many of its events were new.

        `partitions` maps subscriber ids to the partition of the matches topic their events
        were consumed from; a subscriber not in it is placed by Kafka's default partitioner.
        """
        known = partitions or {}
        total = self.ownership.total

        def partition_of(subscriber_id: str) -> int:
            found = known.get(subscriber_id)
            return found if found is not None else key_partition(subscriber_id, total)

        applied = self.store.apply_batch(events, partition_of)
        metrics.events_applied(events, applied)
        return applied

    # --- sending --------------------------------------------------------------------------

    def run_due(self, now: datetime, *, force: bool = False) -> list[DigestSent]:
        """Finish interrupted deliveries, send urgent alerts, then every digest due at `now`.

        Due subscribers are visited a page at a time (see due.py). force=True (or the
        send_immediately setting) treats every subscriber with pending matched items as due now.
        """
        force = force or self.settings.send_immediately
        self._start_round(now)
        sent = self.resume(now)
        sending: Future[list[DigestSent]] | None = None
        after: str | None = None
        # One page is sent (in the sender thread) while the next is composed and claimed.
        with ThreadPoolExecutor(1, thread_name_prefix="notify-send") as sender:
            while not self.stopping.is_set() and (page := self._due_page(now, after, force)):
                rows = self._claim(self._compose(page.due, now, force), now)
                if sending is not None:
                    sent += sending.result()
                sending = sender.submit(self.dispatch, rows, now)
                after = page.last
            if sending is not None:
                sent += sending.result()
        return sent

    def _due_page(self, now: datetime, after: str | None, force: bool) -> Page | None:
        page = self.schedule.due_page(now, after=after, limit=self.settings.page_size,
                                      partitions=self.ownership.partitions, force=force)
        return page or None

    def resume(self, now: datetime) -> list[DigestSent]:
        """Deliver every recorded intent not yet sent (after a crash or a failed attempt) that no
        live instance is sending, of this instance's subscribers, a page at a time."""
        sent: list[DigestSent] = []
        after: tuple[str, str, str] | None = None
        while True:
            rows, after, interrupted = self.leases.take_unfinished(
                now, self._lease_until(), after=after, limit=self.settings.page_size, partitions=self.ownership.partitions,
            )
            if after is None or self.stopping.is_set():
                return sent
            for row in rows:
                duplicate = (row.subscriber_id, row.kind, row.period) in interrupted
                if duplicate:
                    metrics.POSSIBLE_DUPLICATES.labels(kind=row.kind).inc()
                log.info("resuming delivery", extra={"subscriber_id": row.subscriber_id, "kind": row.kind,
                                                     "period": row.period, "possible_duplicate": duplicate})
            sent += self.dispatch(rows, now)

    def _start_round(self, now: datetime) -> None:
        self._round = (now, time.monotonic())

    def clock(self) -> datetime:
        """The round's `now`, moved on by the time the round has taken so far (leases need it)."""
        now, started = self._round
        return now + timedelta(seconds=time.monotonic() - started)

    def _lease_until(self) -> datetime:
        return self.clock() + timedelta(seconds=self.settings.send_lease_s)

    def hold(self, rows: Sequence[Delivery]) -> None:
        """Make these intents this instance's to send, for a lease's time."""
        until = self._lease_until()
        for row in rows:
            row.owner, row.lease_until = self.instance, until

    def _compose(self, page: list[Due], now: datetime, force: bool) -> Composing:
        """Start composing what is due for one page of subscribers."""
        candidates = self.schedule.candidates([d.subscriber_id for d in page])
        day = now.astimezone(self.tz).date()
        current = {d.subscriber_id: period_key(d.profile.frequency, day) for d in page}
        done = self.log.existing("digest", list(current.items()))
        board = [d.subscriber_id for d in page if d.profile.board_briefing]
        midnight = local_instant(day, 0, self.tz)
        briefed = self.log.briefed_between(board, midnight, midnight + timedelta(days=1)) if board else set()
        jobs = []
        for d in page:
            period_done = (d.subscriber_id, current[d.subscriber_id]) in done
            forced = self.log.count_digests(d.subscriber_id, current[d.subscriber_id]) if force and period_done else 0
            quiet = quiet_day(d.profile, now, self.tz, self.settings.briefing_day_mail, d.subscriber_id in briefed)
            jobs.append(Visit(d, candidates.get(d.subscriber_id, []), now, force, period_done, forced, quiet))
        return Composing(jobs, self.compose_pool.submit(jobs))

    def _claim(self, composing: Composing, now: datetime) -> list[Delivery]:
        """Claim what was composed for a page and settle its subscribers' rows; the rows to send."""
        plans = list(zip(composing.jobs, composing.intents.result()))
        intents = [i for _, its in plans for i in its]
        self.hold([i.row for i in intents])
        claimed = self.log.claim_all(intents)
        self.schedule.settle([visited(job, its, claimed, now, self.tz) for job, its in plans])
        return [i.row for i in intents if i.key in claimed]

    def dispatch(self, rows: list[Delivery], now: datetime) -> list[DigestSent]:
        """Send recorded intents (in parallel where the transport can) and record each outcome as
        it comes in: sent, or a failed attempt to retry later. Outcomes that arrive together are
        recorded together; each is recorded before the rest are waited for."""
        if not rows:
            return []
        outgoing = [
            Outgoing(
                name=safe_name(r.kind, r.period, r.subscriber_id), message_id=r.message_id,
                sender=self.settings.from_address, recipient=r.recipient, raw=r.raw,
            )
            for r in rows
        ]
        send_all = getattr(self.transport, "send_all", None)
        outcomes = send_all(outgoing, wait_s=RECORD_EVERY_S) if send_all else send_each(self.transport, outgoing)
        sent: list[DigestSent] = []
        waiting = dict(enumerate(rows))
        unrecorded: list[tuple[int, SendResult]] = []
        first_unrecorded = renewed = time.monotonic()
        for group in outcomes:
            if group and not unrecorded:
                first_unrecorded = time.monotonic()
            unrecorded += group
            ready = not send_all or len(unrecorded) >= RECORD_BATCH or len(unrecorded) == len(waiting)
            if unrecorded and (ready or time.monotonic() - first_unrecorded >= RECORD_EVERY_S):
                sent += self._record(rows, unrecorded, now)
                for i, _ in unrecorded:
                    waiting.pop(i)
                unrecorded = []
            if waiting and time.monotonic() - renewed > self.settings.send_lease_s / 3:
                self._renew(list(waiting.values()))
                renewed = time.monotonic()
        return sent

    def _record(self, rows: list[Delivery], outcomes: list[tuple[int, SendResult]], now: datetime) -> list[DigestSent]:
        """Record a group of outcomes: the sent in one transaction, each failure on its own."""
        delivered = self.log.mark_all_sent([rows[i] for i, result in outcomes if result.ok], now)
        for row in delivered:
            metrics.DELIVERIES.labels(kind=row.kind, outcome="sent").inc()
            log.info("delivered", extra={"subscriber_id": row.subscriber_id, "kind": row.kind, "period": row.period, "message_id": row.message_id})
        for i, result in outcomes:
            if not result.ok:
                self._failed(rows[i], result, now)
        titles = self.log.item_titles([i for row in delivered for i in row.item_ids])
        return [digest_sent(row, titles) for row in delivered]

    def _renew(self, rows: list[Delivery]) -> None:
        held = self.leases.renew(rows, self._lease_until())
        if held < len(rows):  # only if this instance stalled past its lease: another may resend
            log.warning("lease lost while sending", extra={"instance": self.instance, "rows": len(rows), "held": held})

    def _failed(self, row: Delivery, result: SendResult, now: datetime) -> None:
        wait = min(self.settings.scheduler_interval_s * 2 ** row.attempts, 3600.0)
        failed = self.log.mark_failed_attempt(
            row, result.error, permanent=result.permanent, max_runs=self.settings.max_delivery_runs,
            retry_at=now.astimezone(timezone.utc) + timedelta(seconds=wait),
        )
        metrics.DELIVERIES.labels(kind=row.kind, outcome="failed" if failed.status == "failed" else "retrying").inc()
        log.warning("delivery failed", extra={"subscriber_id": row.subscriber_id, "kind": row.kind, "period": row.period, "status": failed.status, "error": result.error})

    def run_briefings(self, now: datetime, *, force: bool = False, month: tuple[int, int] | None = None) -> list[DigestSent]:
        """Send each organisation's monthly board briefing that is due (force: this month so far;
        month: that month, now)."""
        self._start_round(now)
        return run_briefings(self, now, force=force, month=month)

    # --- urgent items that reached nobody ------------------------------------------------------

    def notice_unrouted(self, now: datetime) -> list[str]:
        """Record safety alerts and new guidance that matched nobody (published by the app's relay)."""
        return unrouted.notice(self.store, now, timedelta(seconds=self.settings.unrouted_grace_s))

    def unrouted_outbox(self) -> list[ItemUnrouted]:
        return unrouted.pending(self.store)

    def mark_unrouted_published(self, events: list[ItemUnrouted]) -> None:
        unrouted.mark_published(self.store, [e.item_id for e in events])

    def handle_routed(self, events: Sequence[ItemRouted]) -> int:
        """Items the library team sent to chosen subscribers: delivered as urgent matches."""
        return self.handle_batch([m for e in events for m in unrouted.routed_matches(e)])

    # --- the event outbox -----------------------------------------------------------------

    def outbox(self) -> list[DigestSent | FeedbackGiven]:
        """DigestSent and FeedbackGiven events of this instance's subscribers recorded but not
        yet published, the next few hundred of them (call again until it is empty)."""
        return self.log.unpublished(self.settings.page_size, self.ownership.partitions)

    def mark_published(self, events: list[DigestSent | FeedbackGiven]) -> None:
        self.log.mark_published(events)

    def close(self) -> None:
        if self.stopping.is_set() and self._closed:
            return
        self.stopping.set()
        self._closed = True
        self.compose_pool.close()
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()
        try:
            self.leases.release_all()  # nothing is in flight any more: others may resume at once
        except SQLAlchemyError as exc:  # the database is gone: the leases simply run out
            log.warning("leases not released", extra={"instance": self.instance, "error": repr(exc)})
        self.store.close()
