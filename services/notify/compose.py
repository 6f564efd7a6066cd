"""What a visit to one due subscriber sends: an urgent alert and the digest, composed as intents.

Composing is rendering plus building the exact message; an intent is the delivery row to record
before anything is sent (status 'sending', with its deterministic Message-ID and bytes) and the
matched items it takes. `visited` says what the visit leaves on the subscriber's schedule row.
Nothing here reads or writes the database.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import MessageError
from zoneinfo import ZoneInfo

from contracts import Frequency, Profile
from services.notify.branding import Branding
from services.notify.digest import Candidate, Digest, Entry, SharedEntries, build_alert, build_digest, entry
from services.notify.due import Due, Settled
from services.notify.links import Links
from services.notify.message import build_message, delivery_id, message_id
from services.notify.render import Recipient, Rendered, render_digest
from services.notify.schedule import due_period, local_instant, next_due_at, period_key
from services.notify.settings import NotifySettings
from services.notify.tables import Delivery, as_utc

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


@dataclass(frozen=True)
class Visit:
    """What composing for one due subscriber needs (plain data, so it can go to another process)."""

    due: Due
    candidates: list[Candidate]
    now: datetime
    force: bool
    period_done: bool
    forced_count: int = 0
    quiet: str = ""  # "digests" or "all": a board member's briefing day, spaced from other mail (quiet_day)


@dataclass(frozen=True)
class Intent:
    """A delivery to record and then send, and the matched items it takes (shown and overflow)."""

    row: Delivery
    take: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.row.key


class Composer:
    """Renders and builds the messages of digests, alerts and briefings."""

    def __init__(self, settings: NotifySettings, links: Links, brand: Branding, tz: ZoneInfo) -> None:
        self.settings = settings
        self.links = links
        self.brand = brand
        self.tz = tz

    def visit_all(self, jobs: Sequence[Visit]) -> list[list[Intent]]:
        shared = SharedEntries()  # one page's subscribers share items
        return [self.visit(j.due, j.candidates, j.now, force=j.force, period_done=j.period_done,
                           forced_count=j.forced_count, quiet=j.quiet, make=shared) for j in jobs]

    def visit(
        self, due: Due, candidates: list[Candidate], now: datetime, *, force: bool, period_done: bool,
        forced_count: int = 0, quiet: str = "", make: Callable[[Candidate], Entry] = entry,
    ) -> list[Intent]:
        """What goes to this subscriber now: an alert of urgent items (if they want alerts), then
        the digest of the rest if it is due and this period's has not gone (force: anyway, as an
        extra 'period.N' after the `forced_count` digests this period has had)."""
        intents: list[Intent] = []
        profile = due.profile
        local = now.astimezone(self.tz)
        if quiet == "all" and not force:
            return intents
        urgent = [c for c in candidates if c.urgent] if profile.urgent_alerts else []
        if urgent:
            alert = build_alert(urgent, make)
            intents += self._intent(due, "alert", alert_period(local, list(alert.item_ids)), alert, now, "urgent")
            taken = set(alert.item_ids)
            candidates = [c for c in candidates if c.item.item_id not in taken]
        if not candidates or (quiet and not force):
            return intents
        period = due_period(profile, now, self.tz)
        if period is None and not force:
            return intents
        period = period or period_key(profile.frequency, local.date())
        if period_done:
            if not force:
                return intents
            period = f"{period}.{forced_count + 1}"
        digest = build_digest(candidates, self.settings.max_items, self.settings.corrections_and_letters, make)
        if digest.overflow_ids:  # a limit that keeps items out of the e-mail: said, never silent
            log.info("digest capped: the rest counted, not shown", extra={
                "subscriber_id": due.subscriber_id, "period": period, "shown": len(digest.item_ids),
                "more": len(digest.overflow_ids)})
        return intents + self._intent(due, "digest", period, digest, now, FREQUENCY_WORDS[profile.frequency])

    def _intent(self, due: Due, kind: str, period: str, digest: Digest, now: datetime, frequency_word: str) -> list[Intent]:
        recipient = Recipient(due.subscriber_id, due.organisation_id, due.profile.name, due.profile.email)
        # an alert is of one day, whatever the subscriber's digest frequency
        frequency = Frequency.daily if kind == "alert" else due.profile.frequency
        rendered = render_digest(
            digest, kind=kind, recipient=recipient, period_label=period_label(frequency, now.astimezone(self.tz)),
            frequency_word=frequency_word, digest_id=delivery_id(due.subscriber_id, kind, period), brand=self.brand,
            links=self.links,
        )
        row = self.compose(recipient, kind, period, rendered, list(digest.item_ids), now)
        return [] if row is None else [Intent(row, digest.item_ids + digest.overflow_ids + digest.left_out_ids)]

    def compose(
        self, recipient: Recipient, kind: str, period: str, rendered: Rendered, item_ids: list[str], now: datetime
    ) -> Delivery | None:
        """The intent row of one delivery: the finished message and what it covers."""
        s = self.settings
        mid = message_id(recipient.subscriber_id, kind, period, s.mail_domain)
        try:
            raw = build_message(
                sender_name=s.library_name, sender=s.from_address, to_name=recipient.name, to=recipient.email,
                subject=rendered.subject, text=rendered.text, html=rendered.html, message_id=mid, date=now,
                list_unsubscribe=self.links.list_unsubscribe(recipient.subscriber_id), kind=kind,
                attachments=[(a.filename, a.content_type, a.data) for a in rendered.attachments if not a.content_id],
                inline=[(a.content_id, a.content_type, a.data) for a in rendered.attachments if a.content_id],
            )
        except (ValueError, MessageError) as exc:  # an address the e-mail library refuses: nothing can be sent
            log.error("message not composed", extra={"subscriber_id": recipient.subscriber_id, "error": str(exc)})
            return None
        digest_id = delivery_id(recipient.subscriber_id, kind, period)
        return Delivery(
            subscriber_id=recipient.subscriber_id, kind=kind, period=period, organisation_id=recipient.organisation_id,
            digest_id=digest_id, message_id=mid, recipient=recipient.email, item_ids=item_ids, raw=raw,
            created_at=as_utc(now), link_id=self.links.link_id(digest_id),
        )


def visited(job: Visit, intents: list[Intent], claimed: set[tuple[str, str, str]], now: datetime, tz: ZoneInfo) -> Settled:
    """The subscriber's schedule row as the visit leaves it: what still waits, when next due."""
    taken = {item for i in intents if i.key in claimed for item in i.take}
    remaining = [c for c in job.candidates if c.item.item_id not in taken]
    # An intent another instance recorded first took items this one cannot see from here:
    # keep the subscriber pending, and the next visit finds out what is left.
    lost = any(i.key not in claimed for i in intents)
    period_done = job.period_done or any(i.row.kind == "digest" for i in intents)
    return Settled(
        job.due.subscriber_id, job.due.seq, pending=bool(remaining) or lost,
        urgent_pending=any(c.urgent for c in remaining),
        next_due_at=quiet_until(job.due.profile, now, tz) if job.quiet and not job.force
        else next_due_at(job.due.profile, now, tz, period_done=period_done),
    )


def quiet_day(profile: Profile, now: datetime, tz: ZoneInfo, setting: str, briefed_today: bool) -> str:
    """What waits a day for a board member on the day their briefing goes (the 1st, or the day a
    late one went), so that the briefing is the one e-mail: 'digests', 'all' (alerts too) or ''."""
    if setting == "off" or not profile.board_briefing or not profile.active:
        return ""
    return setting if briefed_today or now.astimezone(tz).day == 1 else ""


def quiet_until(profile: Profile, now: datetime, tz: ZoneInfo) -> datetime:
    """The subscriber's hour on the next local day."""
    return local_instant(now.astimezone(tz).date() + timedelta(days=1), profile.hour, tz)
