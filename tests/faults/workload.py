"""One fault's work: subscribers with known interests, feeds of items on those interests, and the
matches that must follow, all tagged with the run's id so that runs sharing the stack never mix.

Three interests, each held by a few subscribers; a run's items are trials on one of them, or
on nothing anyone asked for (noise). The embedding model scores an item on a subscriber's
interest at 0.97 or more and a noise item far below the threshold, so the matches the pipeline
owes are known in advance: every (item, subscriber) of the same interest.

Subscribers are created as a librarian creates them (subscriptions' use cases, in its
database: the ProfileChanged waits in the outbox for the relay); sources are added to ingest's
database as the sources API adds them; feeds are RSS files that ingest reads by file:// URL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import httpx

from tests.faults.stack import Stack

INTERESTS = {
    "af": ("Anticoagulation for stroke prevention in atrial fibrillation", [
        "Apixaban versus warfarin for stroke prevention in atrial fibrillation",
        "Direct oral anticoagulants and stroke in people with atrial fibrillation",
        "Left atrial appendage occlusion compared with anticoagulation in atrial fibrillation",
    ]),
    "dm": ("Management of type 2 diabetes with SGLT2 inhibitors", [
        "Empagliflozin and glycaemic control in type 2 diabetes",
        "SGLT2 inhibitors and kidney outcomes in type 2 diabetes",
        "Dapagliflozin added to metformin for type 2 diabetes",
    ]),
    "falls": ("Preventing falls in older people in hospital", [
        "Multifactorial falls prevention for older inpatients",
        "Exercise to prevent falls in older adults in hospital wards",
        "Bed alarms and falls among older hospital patients",
    ]),
}
NOISE = [
    "Fluoride varnish for dental caries in preschool children",
    "Tuberculosis screening in prisons: a cost analysis",
    "Acne treatment with topical retinoids in teenagers",
]


@dataclass(frozen=True)
class Work:
    """One work a feed carries; `interest` is None for noise."""

    item_id: str
    interest: str | None
    title: str
    summary: str
    link: str


class Run:
    """The subscribers, works and sources of one fault (see the module docstring)."""

    def __init__(self, stack: Stack, fault: str) -> None:
        self.stack = stack
        self.fault = fault
        self.tag = uuid.uuid4().hex[:8]
        self.organisation = f"Faults {fault} {self.tag}"
        self.organisation_id = ""
        self.subscribers: dict[str, str] = {}  # subscriber id -> interest
        self.emails: dict[str, str] = {}  # subscriber id -> address
        self.works: list[Work] = []
        self._sessions = None
        self._batches = 0
        self.new_works()

    def new_works(self) -> list[Work]:
        """Another batch of new works, of the suite's size (items per interest, and noise); the run owes them too."""
        settings, first = self.stack.settings, self._batches * 1000
        self._batches += 1
        batch = [self._work(interest, first + n) for n in range(settings.items_per_topic) for interest in INTERESTS]
        batch += [self._work(None, first + n) for n in range(settings.noise_items)]
        self.works += batch
        return batch

    # --- what the run owes --------------------------------------------------------------------

    @property
    def item_ids(self) -> set[str]:
        return {w.item_id for w in self.works}

    def expected_matches(self) -> set[tuple[str, str]]:
        return {(w.item_id, sid) for w in self.works for sid, interest in self.subscribers.items()
                if w.interest == interest}

    # --- subscribers (subscriptions) ----------------------------------------------------------

    def add_subscribers(self) -> list[str]:
        from services.subscriptions import accounts, usecases
        from services.subscriptions.models import Subscriber
        from services.subscriptions.schemas import SubscriberCreate

        with self._session() as session:
            self.organisation_id = accounts.ensure_organisation(session, self.organisation).id
        created = []
        for interest, (statement, _) in INTERESTS.items():
            for k in range(self.stack.settings.subscribers_per_topic):
                email = f"{interest}{k}.{self.tag}@example.org"
                with self._session() as session:
                    sub = usecases.create_subscriber(session, None, SubscriberCreate(
                        organisation_id=self.organisation_id, name=f"Reader {interest} {k}", email=email,
                        frequency="daily", interests=[statement], urgent_alerts=False))
                    assert isinstance(sub, Subscriber), sub
                    self.subscribers[sub.id] = interest
                    self.emails[sub.id] = email
                    created.append(sub.id)
        return created

    def touch_subscribers(self, role: str) -> None:
        """Change every subscriber's role: a new profile version each, queued in the outbox."""
        from services.subscriptions import usecases
        from services.subscriptions.access import Problem
        from services.subscriptions.schemas import SubscriberUpdate

        for sid in self.subscribers:
            with self._session() as session:
                changed = usecases.update_subscriber(session, None, sid, SubscriberUpdate(role=role))
                assert not isinstance(changed, Problem), changed

    def delete_subscribers(self) -> None:
        from services.subscriptions import usecases

        for sid in list(self.subscribers):
            with self._session() as session:
                usecases.delete_subscriber(session, None, sid)

    def profiles_applied(self) -> bool:
        """Whether classify holds every subscriber's profile in its index, and notify knows them."""
        from sqlmodel import select

        from services.notify.tables import SubscriberRow

        base = f"http://127.0.0.1:{self.stack.ports['classify']}"
        for sid in self.subscribers:
            try:
                if httpx.get(f"{base}/profiles/{sid}", timeout=3.0).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        with notify_session(self.stack) as s:
            known = set(s.exec(select(SubscriberRow.subscriber_id).where(
                SubscriberRow.subscriber_id.in_(list(self.subscribers)))).all())  # type: ignore[attr-defined]
        return known == set(self.subscribers)

    # --- sources (ingest) ---------------------------------------------------------------------

    def feed(self, name: str, works: list[Work]) -> Path:
        """Write an RSS feed of these works; the path ingest reads it from."""
        folder = self.stack.home / "feeds"
        folder.mkdir(exist_ok=True)
        path = folder / f"{self.tag}-{name}.xml"
        now = datetime.now(timezone.utc)
        entries = "".join(
            f"<item><title>{escape(w.title)}</title><link>{escape(w.link)}</link><guid>{escape(w.link)}</guid>"
            f"<description>{escape(w.summary)}</description>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=i))}</pubDate></item>\n"
            for i, w in enumerate(works)
        )
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Faults journal {name}</title><link>https://example.org/{self.tag}/{name}</link>"
            f"<description>Feed {name} of run {self.tag}</description>\n{entries}</channel></rss>\n",
            encoding="utf-8",
        )
        return path

    def add_source(self, name: str, works: list[Work]) -> str:
        """A source that carries these works; ingest polls it at its next tick."""
        from services.ingest.store import SqlStore
        from services.ingest.tables import SourceCreate

        store = SqlStore(self.stack.urls["ingest"])
        try:
            source = store.add_source(SourceCreate(id=f"faults-{self.tag}-{name}", url=self.feed(name, works).as_uri(),
                                                   title=f"Faults journal {name}", poll_interval_s=3600))
        finally:
            store.engine.dispose()
        return source.id

    def claimed_unpublished(self) -> set[str]:
        """Item ids of this run that ingest has claimed and holds in its outbox, not yet acknowledged."""
        from sqlmodel import Session, select

        from services.ingest.store import SqlStore
        from services.ingest.tables import OutboxEvent

        store = SqlStore(self.stack.urls["ingest"])
        try:
            with Session(store.engine) as s:
                held = set(s.exec(select(OutboxEvent.item_id)).all())
        finally:
            store.engine.dispose()
        return held & self.item_ids

    def close(self) -> None:
        if self._sessions is not None:
            self._sessions[0].dispose()
            self._sessions = None

    def _session(self):  # type: ignore[no-untyped-def]
        if self._sessions is None:
            from services.subscriptions.store import make_engine, session_factory

            engine = make_engine(self.stack.urls["subscriptions"])
            self._sessions = (engine, session_factory(engine))
        return self._sessions[1]()

    def _work(self, interest: str | None, n: int) -> Work:
        kind = interest or "noise"
        title = (INTERESTS[interest][1][n % 3] if interest else NOISE[n % len(NOISE)])
        doi = f"10.5555/faults.{self.tag}.{kind}.{n}"
        return Work(
            item_id=f"doi:{doi}", interest=interest, title=f"{title}: a randomised trial (study {n})",
            summary=f"A randomised controlled trial. {title}. Outcomes reported at 12 months in cohort {n}.",
            link=f"https://doi.org/{doi}",
        )


def notify_session(stack: Stack):  # type: ignore[no-untyped-def]
    """A read session on notify's database (the stack's SQLite file)."""
    from sqlmodel import Session

    return Session(_notify_engine(stack.urls["notify"]))


_ENGINES: dict[str, object] = {}


def _notify_engine(url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    if url not in _ENGINES:
        _ENGINES[url] = create_engine(url, connect_args={"timeout": 60})
    return _ENGINES[url]
