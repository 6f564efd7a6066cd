"""A national population of subscribers and a day of items, from real wording (`horizon bench scale`).

Statements come from a pool of real wording: the taxonomy's topics (labels, synonyms, first
sentence of each description), the sample subscribers' interests, titles of the shared publisher
feeds and of the relevance documents, and phrases a librarian writes from them ("heart failure
in older people", "systematic reviews of ...", "NICE guidance on ..."). Interests are heavily
shared: each subscriber draws 1-5 statements from the pool with Zipf-like popularity, so a few
statements are held by tens of thousands. Some subscribers add example papers, exclusions,
chosen topics, content-type or source filters; 200 organisations, a real service's mix of
daily, weekly and monthly digests. Items are the shared feeds' entries (normalised by ingest's
own parser) and the relevance documents; past what they hold, they are cycled under new ids.
Everything is drawn from one seed, so two runs see the same population.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from contracts import EvidenceType, Frequency, Item, ItemDiscovered, Profile, ProfileChanged, Weekday
from contracts.vocab import ContentType

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"
TAXONOMY = ROOT / "services" / "classify" / "data" / "taxonomy.yaml"
SAMPLES = ROOT / "horizon" / "samples" / "subscribers.yaml"

ORGANISATIONS = 200
STATEMENTS = 40_000
ZIPF = 0.8  # the most popular statement held by about 7% of subscribers (70k of 1M), the tenth by 1%
#: Share of subscribers holding 1..5 statements; with example papers, exclusions, topics,
#: a content-type filter, a source filter; profiles of topics alone.
STATEMENT_COUNTS = ([1, 2, 3, 4, 5], [0.3, 0.3, 0.2, 0.12, 0.08])
EXAMPLES, EXCLUDES, TOPICS, CONTENT_TYPES, SOURCES, TOPICS_ONLY = 0.1, 0.06, 0.25, 0.12, 0.01, 0.02
FREQUENCIES = ([Frequency.daily, Frequency.weekly, Frequency.monthly], [0.1, 0.75, 0.15])
WORD_EXCLUSIONS = ["paediatric", "neonatal", "animal", "protocol", "veterinary", "dental"]
KIND_FILTERS = [[EvidenceType.guideline, EvidenceType.systematic_review], [EvidenceType.trial],
                [EvidenceType.guideline, EvidenceType.policy, EvidenceType.report], [EvidenceType.systematic_review]]


@dataclass(frozen=True)
class Corpus:
    statements: list[str]  # most popular first
    papers: list[tuple[str, str]]  # (reference, title and abstract): example papers
    items: list[Item]
    topics: list[str]


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].strip().rstrip(".")


def _short(title: str, words: int = 14) -> str:
    parts = title.split()
    return " ".join(parts[:words]).rstrip(",:;")


def load_corpus(data: Path = DATA, size: int = STATEMENTS, seed: int = 1) -> Corpus:
    rng = random.Random(seed)
    taxonomy = yaml.safe_load(TAXONOMY.read_text())["topics"]
    samples = yaml.safe_load(SAMPLES.read_text())["subscribers"]
    items = feed_items(data) + relevance_items(data)
    general = [t["label"] for t in taxonomy] + [_first_sentence(t["description"]) for t in taxonomy]
    general += [s for sub in samples for s in sub.get("interests", [])]
    conditions = [s for t in taxonomy if t["group"] in ("specialty", "condition", "public_health")
                  for s in t.get("synonyms", [])]
    people = [t["label"].lower() for t in taxonomy if t["group"] in ("population", "profession", "service")]
    phrases = [f"{c} in {p}" for c in conditions for p in people]
    phrases += [f"{lead} {c}" for c in conditions for lead in ("Systematic reviews of", "NICE guidance on",
                                                               "Nursing care in", "Quality improvement in")]
    titles = [_short(i.title) for i in items if len(i.title.split()) >= 4]
    rng.shuffle(phrases)
    rng.shuffle(titles)
    pool = list(dict.fromkeys([*general, *phrases[: size // 2], *titles]))[:size]
    papers = [(f"doi:10.0000/bench.{n}" if not i.doi else f"doi:{i.doi}", f"{i.title}. {i.summary}")
              for n, i in enumerate(items) if len(i.summary) > 400][:3000]
    # the items in one mixed order: the day seen first (the background profiles are calibrated
    # against) and the day classified then come from the same stream
    rng.shuffle(items)
    return Corpus(pool, papers, items, [t["id"] for t in taxonomy])


def feed_items(data: Path = DATA) -> list[Item]:
    """The shared publisher feeds' entries, as ingest normalises them."""
    from services.ingest.tables import Source
    from services.ingest.usecases import parse_items

    out: dict[str, Item] = {}
    for path in sorted((data / "feeds" / "publishers").rglob("*.xml")):
        result = parse_items(path.read_bytes(), Source(id=f"feed-{path.stem[:8]}", url=path.as_uri()))
        for item in result.items:
            out.setdefault(item.item_id, item)
    return list(out.values())


def relevance_items(data: Path = DATA) -> list[Item]:
    with gzip.open(data / "relevance" / "dev" / "docs.jsonl.gz", "rt") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    return [Item(item_id=f"bench:{d['doc_id']}", source_id="journals", title=d["title"], summary=d.get("abstract", ""),
                 content_type=ContentType.journal_article) for d in docs if d.get("title")]


def item_events(corpus: Corpus, n: int, start: int = 0) -> list[ItemDiscovered]:
    """n items from the corpus, from position `start`, cycled under new ids past its end."""
    out = []
    for k in range(start, start + n):
        item = corpus.items[k % len(corpus.items)]
        if k >= len(corpus.items):
            item = item.model_copy(update={"item_id": f"{item.item_id}#{k // len(corpus.items)}"})
        out.append(ItemDiscovered(producer="bench", event_id=f"bench-item-{k}", item=item))
    return out


def _zipf(n: int, s: float = ZIPF) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def profiles(corpus: Corpus, n: int, batch: int = 10_000, seed: int = 2) -> Iterator[list[ProfileChanged]]:
    """n subscribers' ProfileChanged events, a batch at a time."""
    rng = np.random.default_rng(seed)
    statement_p, paper_p, org_p = _zipf(len(corpus.statements)), _zipf(len(corpus.papers)), _zipf(ORGANISATIONS, 0.8)
    sources = sorted({i.source_id for i in corpus.items})
    for start in range(0, n, batch):
        out = []
        for s in range(start, min(start + batch, n)):
            out.append(_subscriber(s, corpus, rng, statement_p, paper_p, org_p, sources))
        yield out


def _subscriber(s: int, corpus: Corpus, rng: np.random.Generator, statement_p: np.ndarray, paper_p: np.ndarray,
                org_p: np.ndarray, sources: list[str]) -> ProfileChanged:
    org = int(rng.choice(ORGANISATIONS, p=org_p))
    fields: dict = {}
    if rng.random() < TOPICS_ONLY:
        fields["topics"] = list(rng.choice(corpus.topics, size=int(rng.integers(1, 3)), replace=False))
    else:
        k = int(rng.choice(STATEMENT_COUNTS[0], p=STATEMENT_COUNTS[1]))
        picks = set()
        while len(picks) < k:
            picks.add(int(rng.choice(len(corpus.statements), p=statement_p)))
        fields["interests"] = [corpus.statements[i] for i in sorted(picks)]
        if rng.random() < EXAMPLES:
            chosen = sorted({int(rng.choice(len(corpus.papers), p=paper_p)) for _ in range(int(rng.integers(1, 4)))})
            fields["examples"] = [corpus.papers[i][0] for i in chosen]
            fields["example_texts"] = [corpus.papers[i][1] for i in chosen]
        if rng.random() < EXCLUDES:
            fields["exclude"] = [str(rng.choice(WORD_EXCLUSIONS))]
        if rng.random() < TOPICS:
            fields["topics"] = list(rng.choice(corpus.topics, size=int(rng.integers(1, 3)), replace=False))
        if rng.random() < CONTENT_TYPES:
            fields["content_types"] = KIND_FILTERS[int(rng.integers(len(KIND_FILTERS)))]
        if rng.random() < SOURCES:
            fields["sources"] = list(rng.choice(sources, size=min(2, len(sources)), replace=False))
    frequency = FREQUENCIES[0][int(rng.choice(3, p=FREQUENCIES[1]))]
    profile = Profile(name=f"Subscriber {s}", email=f"s{s}@org{org}.example.nhs.uk", frequency=frequency,
                      weekday=list(Weekday)[int(rng.integers(5))], **fields)
    return ProfileChanged(producer="bench", subscriber_id=f"sub-{s:07d}", organisation_id=f"org-{org:03d}",
                          version=1, profile=profile)
