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
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from contracts import DigestSent, FeedbackGiven, Frequency, Profile
from services.notify.branding import Branding
from services.notify.briefings import run_briefings
from services.notify.deliveries import DeliveryLog, digest_sent
from services.notify.digest import Candidate, Digest, build_alert, build_digest
from services.notify.links import Links
from services.notify.mailer import Outgoing, Transport, safe_name
from services.notify.message import build_message, delivery_id, message_id
from services.notify.ownership import Ownership, kafka_partition
from services.notify.render import Recipient, Rendered, render_digest
from services.notify.schedule import due_period, period_key
from services.notify.settings import NotifySettings
from services.notify.store import NotifyEvent, NotifyStore, as_utc
from services.notify.tables import DeliveryRow

log = logging.getLogger(__name__)

FREQUENCY_WORDS = {Frequency.daily: "daily", Frequency.weekly: "weekly", Frequency.monthly: "monthly"}


def period_label(frequency: Frequency, local_day: datetime) -> str:
    day = local_day.date()
    if frequency == Frequency.daily:
        return f"{day:%A} {day.day} {day:%B %Y}"
    if frequency == Frequency.weekly:
        monday = day - timedelta(days=day.weekday())
        return f"week of {monday.day} {monday:%B %Y}"
    return f"{day:%B %Y}"


def alert_period(local_day: datetime, item_ids: list[str]) -> str:
    """An alert's period: the local date plus a hash of its items, so an item is alerted once."""
    digest = hashlib.sha256("\x1f".join(sorted(item_ids)).encode()).hexdigest()[:10]
    return f"{local_day.date().isoformat()}+{digest}"


class Notifier:
    """Builds and delivers digests, alerts and briefings from notify's store."""

    def __init__(
        self, settings: NotifySettings, store: NotifyStore, transport: Transport, links: Links,
        ownership: Ownership | None = None,
    ) -> None:
        self.settings = settings
        self.ownership = ownership or Ownership()
        self.store = store
        self.log = DeliveryLog(store)
        self.transport = transport
        self.links = links
        self.tz = ZoneInfo(settings.timezone)
        self.brand = Branding(
            settings.library_name, settings.library_logo_url, settings.colour_primary,
            settings.colour_text, settings.colour_background,
        )

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
            return found if found is not None else kafka_partition(subscriber_id, total)

        return self.store.apply_batch(events, partition_of)

    # --- sending --------------------------------------------------------------------------

    def run_due(self, now: datetime, *, force: bool = False) -> list[DigestSent]:
        """Finish interrupted deliveries, send urgent alerts, then every digest due at `now`.

        force=True (or the send_immediately setting) treats every subscriber with pending
        matched items as due now.
        """
        force = force or self.settings.send_immediately
        sent = self.resume(now)
        profiles = self.store.live_profiles()
        for subscriber_id, candidates in sorted(self.store.pending().items()):
            known = profiles.get(subscriber_id)
            if known is None or not known[1].active:
                continue
            organisation_id, profile = known
            sent += self._send_for(subscriber_id, organisation_id, profile, candidates, now, force)
        return sent

    def resume(self, now: datetime) -> list[DigestSent]:
        """Deliver every recorded intent not yet sent (after a crash or a failed attempt)."""
        sent = []
        for row in self.log.unfinished(now):
            log.info("resuming delivery", extra={"subscriber_id": row.subscriber_id, "kind": row.kind, "period": row.period})
            event = self.deliver(row, now)
            if event is not None:
                sent.append(event)
        return sent

    def _send_for(
        self, subscriber_id: str, organisation_id: str, profile: Profile, candidates: list[Candidate],
        now: datetime, force: bool,
    ) -> list[DigestSent]:
        sent: list[DigestSent] = []
        local = now.astimezone(self.tz)
        urgent = [c for c in candidates if c.urgent] if profile.urgent_alerts else []
        if urgent:
            alert = build_alert(urgent)
            period = alert_period(local, list(alert.item_ids))
            event = self._compose_and_send(subscriber_id, organisation_id, profile, "alert", period, alert, now, "urgent")
            sent += [event] if event else []
            taken = set(alert.item_ids)
            candidates = [c for c in candidates if c.item.item_id not in taken]
        if not candidates:
            return sent
        period = due_period(profile, now, self.tz)
        if period is None and not force:
            return sent
        period = period or period_key(profile.frequency, local.date())
        if self.log.exists(subscriber_id, "digest", period):
            if not force:
                return sent
            period = f"{period}.{self.log.count_like(subscriber_id, 'digest', period) + 1}"
        digest = build_digest(candidates, self.settings.max_items)
        event = self._compose_and_send(
            subscriber_id, organisation_id, profile, "digest", period, digest, now, FREQUENCY_WORDS[profile.frequency]
        )
        return sent + ([event] if event else [])

    def _compose_and_send(
        self, subscriber_id: str, organisation_id: str, profile: Profile, kind: str, period: str,
        digest: Digest, now: datetime, frequency_word: str,
    ) -> DigestSent | None:
        recipient = Recipient(subscriber_id, organisation_id, profile.name, profile.email)
        rendered = render_digest(
            digest, kind=kind, recipient=recipient, period_label=period_label(profile.frequency, now.astimezone(self.tz)),
            frequency_word=frequency_word, digest_id=delivery_id(subscriber_id, kind, period), brand=self.brand,
            links=self.links,
        )
        row = self.compose(recipient, kind, period, rendered, list(digest.item_ids), now)
        if row is None:
            return None
        if not self.log.claim(row, list(digest.item_ids) + list(digest.overflow_ids)):
            log.info("delivery already recorded", extra={"subscriber_id": subscriber_id, "kind": kind, "period": period})
            return None
        return self.deliver(row, now)

    def compose(
        self, recipient: Recipient, kind: str, period: str, rendered: Rendered, item_ids: list[str], now: datetime
    ) -> DeliveryRow | None:
        """The intent row of one delivery: the finished message and what it covers."""
        s = self.settings
        mid = message_id(recipient.subscriber_id, kind, period, s.mail_domain)
        try:
            raw = build_message(
                sender_name=s.library_name, sender=s.from_address, to_name=recipient.name, to=recipient.email,
                subject=rendered.subject, text=rendered.text, html=rendered.html, message_id=mid, date=now,
                list_unsubscribe=self.links.list_unsubscribe(recipient.subscriber_id), kind=kind,
                attachments=[(a.filename, a.content_type, a.data) for a in rendered.attachments],
            )
        except ValueError as exc:  # an address the e-mail library refuses: nothing can be sent
            log.error("message not composed", extra={"subscriber_id": recipient.subscriber_id, "error": str(exc)})
            return None
        return DeliveryRow(
            subscriber_id=recipient.subscriber_id, kind=kind, period=period, organisation_id=recipient.organisation_id,
            digest_id=delivery_id(recipient.subscriber_id, kind, period), message_id=mid, recipient=recipient.email,
            status="sending", item_ids=item_ids, raw=raw, html=rendered.html, created_at=as_utc(now),
        )

    def deliver(self, row: DeliveryRow, now: datetime) -> DigestSent | None:
        outgoing = Outgoing(
            name=safe_name(row.kind, row.period, row.subscriber_id), message_id=row.message_id,
            sender=self.settings.from_address, recipient=row.recipient, raw=row.raw, html=row.html,
        )
        result = self.transport.send(outgoing)
        if result.ok:
            done = self.log.mark_sent(row, now)
            log.info("delivered", extra={"subscriber_id": row.subscriber_id, "kind": row.kind, "period": row.period, "message_id": row.message_id})
            return digest_sent(done)
        wait = min(self.settings.scheduler_interval_s * 2 ** row.attempts, 3600.0)
        failed = self.log.mark_failed_attempt(
            row, result.error, permanent=result.permanent, max_runs=self.settings.max_delivery_runs,
            retry_at=now.astimezone(timezone.utc) + timedelta(seconds=wait),
        )
        log.warning("delivery failed", extra={"subscriber_id": row.subscriber_id, "kind": row.kind, "period": row.period, "status": failed.status, "error": result.error})
        return None

    def run_briefings(self, now: datetime, *, force: bool = False) -> list[DigestSent]:
        """Send each organisation's monthly board briefing that is due (force: this month so far)."""
        return run_briefings(self, now, force=force)

    # --- the event outbox -----------------------------------------------------------------

    def outbox(self) -> list[DigestSent | FeedbackGiven]:
        """DigestSent and FeedbackGiven events recorded but not yet published."""
        return self.log.unpublished()

    def mark_published(self, events: list[DigestSent | FeedbackGiven]) -> None:
        self.log.mark_published(events)

    def close(self) -> None:
        self.store.close()
