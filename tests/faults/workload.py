"""One fault's work: subscribers with known interests, feeds of items on those interests, and the
matches that must follow, all tagged with the run's id so that runs sharing the stack never mix.

Three interests, each held by a few subscribers; a run's items are trials on one of them (the
interest's own statement is their title), or on nothing anyone asked for (noise). The matches
the pipeline owes are known in advance: every (item, subscriber) of the same interest. classify
may match more (a noise item, a neighbouring interest): those are owed too once made.

Each run has interests of its own (TOPICS, three at a time). classify calibrates a new profile
model against its recent items so that a profile receives a small share of the flow (about 0.4%
of it): were every run to ask for the same three interests, the earlier runs' works would soon
be the background they are calibrated against, and a new run's works no longer stand out.

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

#: Interests a run's subscribers hold, three to a run, each run its own (see the module docstring);
#: in threes from unrelated fields, so that a run's interests hardly ever match each other's works.
TOPICS = {
    "af": "Anticoagulation for stroke prevention in atrial fibrillation",
    "dm": "Management of type 2 diabetes with SGLT2 inhibitors",
    "falls": "Preventing falls in older people in hospital",
    "asthma": "Inhaled corticosteroids for asthma in children",
    "depression": "Psychological therapy for depression in adults",
    "hip": "Rehabilitation after hip fracture surgery",
    "sepsis": "Early antibiotics for sepsis in the emergency department",
    "smoking": "Stopping smoking in pregnancy",
    "dementia": "Non-drug management of agitation in dementia",
    "copd": "Pulmonary rehabilitation for chronic obstructive pulmonary disease",
    "glaucoma": "Treatment of open-angle glaucoma",
    "breastfeeding": "Support to continue breastfeeding",
    "backpain": "Exercise therapy for chronic low back pain",
    "migraine": "Preventive treatment for chronic migraine",
    "hands": "Hand hygiene to prevent healthcare-associated infection",
    "obesity": "Weight management for children living with obesity",
    "bp": "Home blood pressure monitoring for hypertension",
    "prostate": "Active surveillance for low-risk prostate cancer",
    "pph": "Preventing postpartum haemorrhage",
    "alcohol": "Brief interventions for harmful drinking",
    "cataract": "Cataract surgery outcomes",
    "knee": "Treatment of knee osteoarthritis",
    "schizophrenia": "Long-acting injectable antipsychotics in schizophrenia",
    "flu": "Influenza vaccination of healthcare workers",
    "uti": "Antibiotic treatment of urinary tract infection in women",
    "jaundice": "Phototherapy for jaundice in newborn babies",
    "thyroid": "Treatment of subclinical hypothyroidism",
    "mammography": "Breast cancer screening with mammography",
    "opioids": "Treatment of opioid dependence",
    "gout": "Urate-lowering therapy for gout",
    "iron": "Iron supplementation for anaemia in pregnancy",
    "insomnia": "Insomnia treatment without medication",
    "concussion": "Return to sport after concussion",
    "ulcers": "Preventing pressure ulcers in hospital patients",
    "malaria": "Prevention of malaria in travellers",
    "hearing": "Hearing aids for age-related hearing loss",
    "endometriosis": "Treatment of endometriosis pain",
    "cpr": "Bystander resuscitation for cardiac arrest",
}
TOPICS_PER_RUN = 3
NOISE = [
    "Fluoride varnish for dental caries in preschool children",
    "Tuberculosis screening in prisons: a cost analysis",
    "Acne treatment with topical retinoids in teenagers",
]


def take_topics(stack: Stack) -> dict[str, str]:
    """The next run's interests: topics no earlier run of this stack has used."""
    keys = list(TOPICS)[stack.topics_taken:stack.topics_taken + TOPICS_PER_RUN]
    if len(keys) < TOPICS_PER_RUN:
        raise RuntimeError(f"the suite ran out of topics after {stack.topics_taken // TOPICS_PER_RUN} runs: "
                           "add some to workload.TOPICS (a topic used twice gets fewer matches than a run owes)")
    stack.topics_taken += TOPICS_PER_RUN
    return {key: TOPICS[key] for key in keys}


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
        self.interests = take_topics(stack)  # interest -> statement
        self.works: list[Work] = []
        self._sessions = None
        self._batches = 0
        self.new_works()

    def new_works(self) -> list[Work]:
        """Another batch of new works, of the suite's size (items per interest, and noise); the run owes them too."""
        settings, first = self.stack.settings, self._batches * 1000
        self._batches += 1
        batch = [self._work(interest, first + n) for n in range(settings.items_per_topic) for interest in self.interests]
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
        for interest, statement in self.interests.items():
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
        as_subscriptions = {"Authorization": f"Bearer {self.stack.keys['classify']}"}
        for sid in self.subscribers:
            try:
                if httpx.get(f"{base}/profiles/{sid}", headers=as_subscriptions, timeout=3.0).status_code != 200:
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
        title = self.interests[interest] if interest else NOISE[n % len(NOISE)]
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
