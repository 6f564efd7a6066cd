"""The classify use case: embed, tag and match a batch of items; keep profiles current; preview.

One Classifier holds the model, the profile index, the recent items and the term statistics.
Output events get ids derived from the input event's id, so a redelivered batch republishes the
same events and downstream consumers drop the repeats.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np

from contracts import (
    EvidenceType, ItemClassified, ItemDiscovered, ItemMatched, MatchReason, Profile, ProfileChanged, TopicTag,
    derived_event_id, utcnow,
)
from services.classify import lexical
from services.classify.embedder import item_text
from services.classify.evidence import infer_evidence_type, is_urgent
from services.classify.calibration import Background
from services.classify.examples import awaiting_keys, disliked_vectors, item_keys, with_example_texts
from services.classify.index import ProfileIndex, RecentItem, RecentItems, as_matrix
from services.classify.matcher import Match, Matcher
from services.classify.neighbours import MIN_POOL, Pool, expand_all, within
from services.classify.profile_sync import apply_profile_events, latest_per_subscriber, load_table
from services.classify.profiles import (
    AWAITING, MODEL, ProfileModel, awaiting_point, key_id, model_from_payload, point_id,
)
from services.classify.segment import ItemBlock
from services.classify.table import ProfileTable
from services.classify.tagger import Tagger

log = logging.getLogger(__name__)

PRODUCER = "classify"
BACKGROUND_ITEMS = 2000
SEEN_EVENTS = 100_000
#: How often items older than RECENT_DAYS are dropped from the recent items (seconds).
PRUNE_EVERY_S = 3600


@dataclass
class ClassifyResult:
    """A batch classified: one ItemClassified per item, and the models each item matched with the
    subscribers holding them. The ItemMatched events (one per subscriber: tens of thousands for an
    item on a popular interest) are built as they are read (`matched_events`), not all at once."""

    classified: list[ItemClassified] = field(default_factory=list)
    #: Per item: its event, evidence type, urgency, and the models it matched (best first).
    groups: list[tuple[ItemDiscovered, EvidenceType, bool, list[Match]]] = field(default_factory=list)
    at: datetime = field(default_factory=utcnow)

    def matched_events(self) -> Iterator[ItemMatched]:
        for e, et, urgent, matches in self.groups:
            for m in matches:  # built without validation: every value is the matcher's own
                for sub in m.holders:
                    yield ItemMatched.model_construct(
                        event_id=derived_event_id(e.event_id, sub.subscriber_id), occurred_at=self.at,
                        producer=PRODUCER, schema_version=1, item_id=e.item.item_id,
                        subscriber_id=sub.subscriber_id, organisation_id=sub.organisation_id, score=m.score,
                        reasons=m.reasons, evidence_type=et, urgent=urgent and sub.urgent_alerts,
                    )

    @property
    def matched(self) -> list[ItemMatched]:
        """Every ItemMatched event of the batch, in a list (small batches: tests, the demo)."""
        return list(self.matched_events())

    def match_count(self, item_id: str | None = None) -> int:
        """ItemMatched events in the batch (of one item, if given)."""
        return sum(len(m.holders) for e, _, _, ms in self.groups if item_id in (None, e.item.item_id) for m in ms)


@dataclass(frozen=True)
class PreviewMatch:
    """One recent item a profile would have received, and why."""

    item_id: str
    title: str
    url: str
    source_id: str
    published_at: str | None
    evidence_type: str
    score: float
    reasons: list[MatchReason]
    summary: str = ""  # the item's summary, cut short: what the e-mail shows under the title


def _text(item: RecentItem) -> str:
    """A recent item's stored title and summary, as it was embedded (embedder.item_text)."""
    return item_text(item.payload["item"]["title"], item.payload["item"].get("summary", ""))


def _design(item: RecentItem) -> frozenset[str]:
    """The design markers of a recent item: as stored when it was classified, or (an item stored
    before they were, or before the markers last changed: lexical.DESIGN_VERSION) found again in
    its stored title and summary."""
    if "design" in item.payload and item.payload.get("design_version") == lexical.DESIGN_VERSION:
        return frozenset(item.payload["design"])
    return lexical.design_features(_text(item))


class Classifier:
    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], model_key: str, dim: int, index: ProfileIndex,
                 recent: RecentItems, tagger: Tagger | None, stats: lexical.TermStats, threshold: float = 0.5,
                 recent_days: int = 30, stats_path: Path | None = None, owns: Callable[[str], bool] | None = None) -> None:
        self.embed, self.model_key, self.dim = embed, model_key, dim
        self.index, self.recent, self.tagger, self.stats = index, recent, tagger, stats  # no tagger: no tags wanted
        self.owns = owns
        self._disliked = partial(disliked_vectors, recent=recent, dim=dim)  # a profile's not-relevant items, where seen
        self.table = load_table(index, dim, owns)
        self.matcher = Matcher(self.table, threshold=threshold)
        self.recent_days = recent_days
        self.stats_path = stats_path
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._unsaved = 0
        self._pool: Pool | None = None
        self._pool_age = 0
        self._pool_key: tuple | None = None
        self._pool_designs: list[frozenset[str]] = []
        self._pruned = 0
        self._background_cache: Background | None = None
        self.last_items: ItemBlock | None = None

    def _sample(self) -> None:
        """Renew the pool with a sample of the recent items (the store's own order, which is not by
        time), for calibration and as the pool items' words are expanded from."""
        items = self.recent.since(int(time.time()) - self.recent_days * 86400, limit=BACKGROUND_ITEMS)
        key = tuple((it.item_id, it.seen_at) for it in items)
        if key != self._pool_key:
            self._pool = Pool(as_matrix(items, self.dim), [it.sparse for it in items], [it.item_id for it in items])
            self._pool_key, self._pool_designs, self._background_cache = key, [_design(it) for it in items], None
        self._pool_age = 0

    def _background(self) -> Background:
        """The profiles' calibration background: the sample's vectors, its BM25 vectors expanded
        each from the others (neighbours.within: about a second for 2000 items, so kept until the
        sample changes), and its design markers."""
        self._sample()
        assert self._pool is not None
        if self._background_cache is None:
            self._background_cache = Background(self._pool.dense, within(self._pool), self._pool_designs)
        return self._background_cache

    def _neighbour_pool(self) -> Pool:
        """The pool new items' words are expanded from: the background sample, taken again once
        the items classified since number a quarter of it (and at least neighbours.MIN_POOL)."""
        if self._pool is None or self._pool_age >= max(MIN_POOL, len(self._pool) // 4):
            self._sample()
        assert self._pool is not None
        return self._pool

    def apply_profiles(self, events: Sequence[ProfileChanged], again: bool = False) -> list[str]:
        """Bring the profile index up to date (stale versions ignored; with `again`, the stored
        version is applied once more). A profile whose example papers are not all found yet
        leaves an "awaiting" point, so that the arrival of one applies it again."""
        if self.owns is not None:
            foreign = [e for e in events if not self.owns(e.subscriber_id)]
            if foreign:
                log.warning("profiles of another shard ignored", extra={"profiles": len(foreign)})
            events = [e for e in events if self.owns(e.subscriber_id)]
        if not events:
            return []
        latest = latest_per_subscriber(events)
        widened = [with_example_texts(e, self.recent) for e in latest]
        changed = apply_profile_events(self.table, self.index, widened, self.embed, self.stats, self._background(),
                                       disliked=self._disliked, again=again)
        awaiting, done = [], set(changed)
        for original, event in zip(latest, widened):
            if event.subscriber_id in done and original.profile is not None and event.profile is not None:
                keys = awaiting_keys(event.profile, len(original.profile.examples))
                if keys:
                    awaiting.append(awaiting_point(original, keys))
        self.index.delete([point_id(s, AWAITING) for s in changed])
        self.index.upsert(awaiting)
        return changed

    def _apply_awaited(self, events: Sequence[ItemDiscovered]) -> None:
        """Apply again the profiles that were waiting for one of these items as an example paper."""
        keys = list(dict.fromkeys(k for e in events for k in item_keys(e.item)))
        hits = self.index.awaiting(keys)
        if hits:
            waiting = [ProfileChanged.model_validate_json(h.payload["event"]) for h in hits]
            changed = self.apply_profiles(waiting, again=True)
            log.info("profiles applied again: an awaited example paper arrived", extra={"profiles": len(changed)})

    def _fresh(self, events: Sequence[ItemDiscovered]) -> list[ItemDiscovered]:
        """The batch's events not yet handled in this process (and no repeats within it)."""
        return list({e.event_id: e for e in events if e.event_id not in self._seen}.values())

    def forget(self, event_ids: Sequence[str]) -> None:
        """Count these events as not handled (their outputs never reached the broker)."""
        for event_id in event_ids:
            self._seen.pop(event_id, None)

    def _handled(self, events: Sequence[ItemDiscovered]) -> None:
        for e in events:
            self._seen[e.event_id] = None
        while len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)

    def classify(self, events: Sequence[ItemDiscovered]) -> ClassifyResult:
        """Embed, tag and match a batch; events already handled in this process are skipped
        (an event counts as handled only once its batch went through)."""
        events = self._fresh(events)
        result = ClassifyResult()
        if not events:
            return result
        texts = [item_text(e.item.title, e.item.summary) for e in events]
        row = {t: n for n, t in enumerate(dict.fromkeys(texts))}  # each distinct text embedded once
        vectors = self.embed(list(row))[[row[t] for t in texts]]
        doc_terms = [lexical.terms(t) for t in texts]
        self.stats.add(doc_terms)
        sparse = [lexical.item_vector(t, self.stats) for t in doc_terms]
        expanded = expand_all(self._neighbour_pool(), vectors, sparse, [e.item.item_id for e in events])
        tags = self.tagger.tag(texts, vectors) if self.tagger else [[] for _ in texts]
        evidence = [infer_evidence_type(e.item.title, e.item.summary, e.item.content_type) for e in events]
        urgent_topics = self.tagger.urgent_topics if self.tagger else frozenset()
        urgent = [is_urgent(e.item, et, tg, urgent_topics) for e, et, tg in zip(events, evidence, tags)]
        designs = [lexical.design_features(text) for text in texts]
        block = ItemBlock(vectors, expanded, designs, [str(et) for et in evidence], [e.item.source_id for e in events],
                          tags, [frozenset(t) for t in doc_terms])
        self.last_items = block  # what the last batch was scored as (benchmarks, diagnosis)
        matches = self.matcher.match(block)
        now = int(time.time())
        recent = []
        for e, v, sp, tg, et, urg, ms, design in zip(events, vectors, sparse, tags, evidence, urgent, matches, designs):
            result.classified.append(ItemClassified(
                event_id=derived_event_id(e.event_id, "classified"), producer=PRODUCER, item=e.item,
                revision=e.revision, tags=tg, evidence_type=et, urgent=urg, model=self.model_key,
            ))
            result.groups.append((e, et, urg, ms))
            recent.append(RecentItem(e.item.item_id, now, v.tolist(), sp, {
                "item": e.item.model_dump(mode="json"), "tags": [t.model_dump() for t in tg],
                "evidence_type": str(et), "urgent": int(urg), "design": sorted(design),
                "design_version": lexical.DESIGN_VERSION,
            }))
        self.recent.add(recent)
        if now - self._pruned >= PRUNE_EVERY_S:  # items older than recent_days go, at most once an hour
            self.recent.prune(now - self.recent_days * 86400)
            self._pruned = now
        self._pool_age += len(events)
        self._apply_awaited(events)
        self._handled(events)
        self._unsaved += len(events)
        if self._unsaved >= 1000:
            self.save_stats()
        log.info("items classified", extra={"items": len(events), "matches": result.match_count()})
        return result

    def preview(self, profile: Profile, days: int = 7) -> list[PreviewMatch]:
        """Which of the last `days` days' items this profile (saved or draft) would match, and why:
        the profile fitted on its own, as classify fits it, and scored against every such item."""
        since = int(time.time() - days * 86400)
        event = with_example_texts(ProfileChanged(producer=PRODUCER, subscriber_id="preview",
                                                  organisation_id="preview", version=1, profile=profile), self.recent)
        table = ProfileTable(self.dim)
        apply_profile_events(table, None, [event], self.embed, self.stats, self._background(), disliked=self._disliked)
        matcher = Matcher(table, threshold=self.matcher.threshold)
        pool = self._neighbour_pool()
        out = []
        for items in self.recent.pages_since(since):
            dense, texts = as_matrix(items, self.dim), [_text(it) for it in items]
            block = ItemBlock(dense, expand_all(pool, dense, [it.sparse for it in items], [it.item_id for it in items]),
                              [_design(it) for it in items],
                              [it.payload.get("evidence_type", str(EvidenceType.other)) for it in items],
                              [it.payload["item"]["source_id"] for it in items],
                              [[TopicTag(**t) for t in it.payload.get("tags", [])] for it in items],
                              [frozenset(lexical.terms(t)) for t in texts])
            for it, ms in zip(items, matcher.match(block)):
                for m in ms:
                    item = it.payload["item"]
                    out.append(PreviewMatch(it.item_id, item["title"], item.get("url", ""), item["source_id"],
                                            item.get("published_at"), it.payload.get("evidence_type", "other"),
                                            m.score, m.reasons, str(item.get("summary") or "")[:400]))
        out.sort(key=lambda p: -p.score)
        return out

    def model_of(self, subscriber_id: str) -> ProfileModel | None:
        """The model a subscriber's profile is matched with, as the index stores it."""
        held = self.table.subscribers.get(subscriber_id)
        if held is None or not held.model:
            return None
        [hit] = self.index.retrieve([key_id(MODEL, held.model)])
        return model_from_payload(hit.payload)

    def save_stats(self) -> None:
        if self.stats_path is not None:
            self.stats.save(self.stats_path)
        self._unsaved = 0

    def close(self) -> None:
        self.save_stats()
        self.index.close()
        self.recent.close()
