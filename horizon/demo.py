"""The embedded end-to-end run: every service's own use cases, in one process, no broker.

Events flow exactly as they would over Kafka, handed from one service's use case to the next:
subscriptions (import the subscribers file; its outbox yields ProfileChanged) -> classify and
notify (apply the profiles) -> ingest (read the sources; ItemDiscovered) -> classify
(ItemClassified, ItemMatched) -> notify (store, then build and deliver every digest now, as if
all items were this period's news). Each service keeps its state where its embedded default
says: SQLite files, the in-process Qdrant Edge index, and the outbox folder for e-mail.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from contracts import DigestSent, ItemClassified, ItemMatched, ProfileChanged, utcnow

log = logging.getLogger(__name__)

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_SOURCES = SAMPLES / "sources"
DEFAULT_SUBSCRIBERS = SAMPLES / "subscribers.yaml"


@dataclass
class DemoReport:
    """What one demo run did, as written to summary.json."""

    out: Path
    sources: int = 0
    source_errors: list[dict] = field(default_factory=list)
    items_ingested: int = 0
    items_classified: int = 0
    matches: int = 0
    digests: list[DigestSent] = field(default_factory=list)
    subscribers: dict[str, dict] = field(default_factory=dict)
    pdfs: list[Path] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "sources": self.sources,
            "source_errors": self.source_errors,
            "items_ingested": self.items_ingested,
            "items_classified": self.items_classified,
            "items_matched": self.matches,
            "digests_written": len(self.digests),
            "pdfs_written": [p.name for p in self.pdfs],
            "subscribers": self.subscribers,
        }


def run_demo(
    out: Path,
    sources: Path = DEFAULT_SOURCES,
    subscribers: Path = DEFAULT_SUBSCRIBERS,
    now: datetime | None = None,
) -> DemoReport:
    """Run the whole pipeline once on local files; write digests and summary.json into `out`."""
    now = now or utcnow()
    state = out / "state"
    if state.exists():  # each run starts afresh: a demo is repeatable
        shutil.rmtree(state)
    for old in [*out.glob("*.eml"), *out.glob("*.html"), *out.glob("*.pdf")]:
        old.unlink()
    state.mkdir(parents=True)
    report = DemoReport(out=out)

    profiles = _import_subscribers(subscribers, state)
    classifier = _classifier(state)
    notifier = _notifier(state, out)
    try:
        classifier.apply_profiles(profiles)
        for event in profiles:
            notifier.handle(event)

        discovered = _ingest(sources, state, now, report)
        result = classifier.classify(discovered)
        report.items_classified = len(result.classified)
        report.matches = len(result.matched)
        for event in [*result.classified, *result.matched]:
            notifier.handle(event)
        report.digests = notifier.run_due(now, force=True)
        # the board briefing of the month the sample items were published in (the latest such month)
        report.digests += notifier.run_briefings(now, month=_latest_month(result.classified, now))
    finally:
        notifier.close()
        classifier.close()

    report.subscribers = _per_subscriber(profiles, result.classified, result.matched, report.digests)
    report.pdfs = _save_attachments(out)
    (out / "summary.json").write_text(json.dumps(report.summary(), indent=2) + "\n")
    return report


def _latest_month(classified: list[ItemClassified], now: datetime) -> tuple[int, int]:
    dates = [e.item.published_at for e in classified if e.item.published_at and e.item.published_at <= now]
    latest = max(dates, default=now)
    return latest.year, latest.month


def _import_subscribers(path: Path, state: Path) -> list[ProfileChanged]:
    from services.subscriptions import importing, outbox, store

    engine = store.make_engine(f"sqlite:///{state / 'subscriptions.db'}")
    store.create_schema(engine)
    make_session = store.session_factory(engine)
    with make_session() as session:
        imported = importing.import_subscribers(session, path.read_bytes(), _format(path), None, None)
        session.commit()
    for error in imported.errors:
        log.warning("subscriber row refused", extra={"row": error.row, "email": error.email, "reason": error.message})
    with make_session() as session:
        pending = outbox.pending(session, limit=100_000)
        outbox.mark_published(session, [row_id for row_id, _ in pending])
        session.commit()
    engine.dispose()
    return [event for _, event in pending]


def _format(path: Path) -> str:
    return "csv" if path.suffix.lower() == ".csv" else "yaml"


def _classifier(state: Path):
    from services.classify.bootstrap import build_classifier
    from services.classify.settings import ClassifySettings

    return build_classifier(ClassifySettings(data_dir=state / "classify", index_backend="edge"))


def _notifier(state: Path, out: Path):
    from services.notify.bootstrap import build_notifier
    from services.notify.settings import NotifySettings

    settings = NotifySettings(
        database_url=f"sqlite:///{state / 'notify.db'}", outbox_dir=out, smtp_url="", dev=True
    )
    return build_notifier(settings)


def _ingest(sources: Path, state: Path, now: datetime, report: DemoReport):
    from services.ingest.local import ingest_local
    from services.ingest.store import SqlStore

    result = ingest_local(sources, SqlStore(f"sqlite:///{state / 'ingest.db'}"), now)
    report.sources = result.sources
    report.items_ingested = len(result.events)
    report.source_errors = [
        {"source": error.source_id, "input": error.input, "error": str(error.error)} for error in result.errors
    ]
    return result.events


def _per_subscriber(
    profiles: list[ProfileChanged],
    classified: list[ItemClassified],
    matched: list[ItemMatched],
    digests: list[DigestSent],
) -> dict[str, dict]:
    titles = {event.item.item_id: event.item.title for event in classified}
    matches = Counter(event.subscriber_id for event in matched)
    sent = {d.subscriber_id: d for d in digests if d.kind == "digest"}
    alerts = Counter(d.subscriber_id for d in digests if d.kind == "alert")
    briefed = {d.subscriber_id for d in digests if d.kind == "briefing"}
    rows = {}
    for event in profiles:
        if event.profile is None:
            continue
        digest = sent.get(event.subscriber_id)
        rows[event.profile.email] = {
            "name": event.profile.name,
            "role": event.profile.role,
            "subscriber_id": event.subscriber_id,
            "matched": matches[event.subscriber_id],
            "digest": digest.digest_id if digest else None,
            "alerts": alerts[event.subscriber_id],
            "board_briefing": event.subscriber_id in briefed,
            "items": [titles.get(item_id, item_id) for item_id in digest.item_ids] if digest else [],
        }
    return rows


def _save_attachments(out: Path) -> list[Path]:
    """Each message's attachments (the board briefing's PDF) beside it, to open without a mail client."""
    saved = []
    for path in sorted(out.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in message.iter_attachments():
            name = Path(part.get_filename() or "attachment").name
            target = out / f"{path.stem}_{name}"
            target.write_bytes(part.get_content())
            saved.append(target)
    return saved
