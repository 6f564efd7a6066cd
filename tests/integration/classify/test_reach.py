"""Reach is exact: an item goes to every subscriber whose own profile accepts it, however many
share that profile, and to no one else; the same decisions as scoring each profile alone."""

from __future__ import annotations

import random

import numpy as np
import pytest

from contracts import EvidenceType, TopicTag
from horizon.bench.reference import RefItem, RefItems, RefPart, decide_many
from services.classify import lexical
from services.classify.calibration import Background
from services.classify.matcher import Matcher
from services.classify.neighbours import Pool, expand_all, within
from services.classify.profile_sync import apply_profile_events
from services.classify.profiles import MODEL, PART, model_from_payload
from services.classify.segment import ItemBlock
from services.classify.table import ProfileTable

from .conftest import DIM, fake_embed, item_event, profile_event
from .test_matching import AF, AF_INTEREST, warm

WORDS = ("stroke atrial fibrillation anticoagulation warfarin apixaban bleeding heart failure sepsis antibiotics "
         "infection prevention hand hygiene catheter falls hip fracture older people dementia delirium diabetes "
         "insulin foot ulcer pressure ulcers nursing staffing asthma inhaler children paediatric vaccination "
         "pregnancy midwifery depression anxiety trial randomised cohort review guideline").split()
TOPICS = [("cardiology", "Cardiology"), ("infection", "Infection"), ("older-people", "Older people")]


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


class MemoryIndex:
    """A fake of the profile index port: points in a dict."""

    def __init__(self) -> None:
        self.points: dict = {}

    def upsert(self, points) -> None:
        self.points.update((p.id, p) for p in points)

    def delete(self, ids) -> None:
        for i in ids:
            self.points.pop(i, None)

    def of_kind(self, kind: str) -> list:
        return [p for p in self.points.values() if p.payload.get("kind") == kind]


def population(rng: random.Random, n: int, seen: list[str] = ()) -> list:
    """Subscribers drawing on shared statements, examples, exclusions (words, and by meaning:
    some the very text of an item in `seen`), items marked not relevant (from `seen`), topics,
    content types, sources, statements asking for a kind of evidence, and topics-only profiles."""
    statements = [text(rng, rng.randint(3, 7)) for _ in range(25)]
    statements += [f"Systematic reviews of {s.lower()}" for s in statements[:5]]
    papers = [(f"doi:10.5/{k}", text(rng, 40)) for k in range(8)]
    events = []
    for s in range(n):
        fields: dict = {"interests": sorted(rng.sample(statements, rng.randint(1, 3)))}
        if rng.random() < 0.3:
            ex = rng.sample(papers, rng.randint(1, 2))
            fields["examples"], fields["example_texts"] = [r for r, _ in ex], [t for _, t in ex]
        if rng.random() < 0.15:
            fields["exclude"] = [rng.choice(WORDS)]
        if seen and rng.random() < 0.15:
            fields["exclude"] = fields.get("exclude", []) + [rng.choice(seen)]
        if seen and rng.random() < 0.15:
            fields["disliked"] = [f"item-{rng.randrange(len(seen))}"]
        if rng.random() < 0.2:
            fields["topics"] = [rng.choice(TOPICS)[0]]
        if rng.random() < 0.15:
            fields["content_types"] = [EvidenceType.trial, EvidenceType.systematic_review]
        if rng.random() < 0.1:
            fields["sources"] = ["src-a"]
        if rng.random() < 0.05:
            fields = {"topics": [rng.choice(TOPICS)[0]]}  # a topics-only profile
        events.append(profile_event(f"s{s:04d}", **fields))
    return events


def texts_of_items(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        body = text(rng, rng.choice([8, 60]))
        out.append(f"[{body}]" if rng.random() < 0.1 else body)
    return out


def items(rng: random.Random, bodies: list[str]) -> list[RefItem]:
    kinds = [str(EvidenceType.trial), str(EvidenceType.systematic_review), str(EvidenceType.guideline), "article"]
    out = []
    for body in bodies:
        terms = lexical.terms(body)
        tags = [TopicTag(topic_id=t, label=label, score=round(rng.uniform(0.4, 0.9), 3))
                for t, label in TOPICS if rng.random() < 0.3]
        out.append(RefItem(fake_embed([body])[0], lexical.item_vector(terms, STATS), lexical.design_features(body),
                           rng.choice(kinds), rng.choice(["src-a", "src-b"]), tags, frozenset(terms)))
    return out


STATS = lexical.TermStats()


def background(rng: random.Random, n: int = 120) -> tuple[Background, Pool]:
    texts = [text(rng, rng.choice([8, 40, 60])) for _ in range(n)]
    terms = [lexical.terms(t) for t in texts]
    STATS.add(terms)
    pool = Pool(fake_embed(texts), [lexical.item_vector(t, STATS) for t in terms], [f"bg{i}" for i in range(n)])
    return Background(pool.dense, within(pool), [lexical.design_features(t) for t in texts]), pool


def block(refs: list[RefItem], pool: Pool) -> tuple[ItemBlock, list[RefItem]]:
    dense = np.stack([r.dense for r in refs])
    expanded = expand_all(pool, dense, [r.lexical for r in refs])
    refs = [RefItem(r.dense, e, r.design, r.evidence_type, r.source_id, r.tags, r.terms) for r, e in zip(refs, expanded)]
    return ItemBlock(dense, expanded, [r.design for r in refs], [r.evidence_type for r in refs],
                     [r.source_id for r in refs], [r.tags for r in refs], [r.terms for r in refs]), refs


def test_every_decision_is_the_one_scoring_each_profile_alone_gives():
    rng = random.Random(7)
    bg, pool = background(rng)
    bodies = texts_of_items(rng, 60)
    events = population(rng, 400, bodies)
    vectors = fake_embed(bodies)

    def disliked(event):
        ids = [i for i in event.profile.disliked]
        return ids, np.stack([vectors[int(i.split("-")[1])] for i in ids]) if ids else np.zeros((0, DIM), np.float32)

    table, index = ProfileTable(DIM), MemoryIndex()
    apply_profile_events(table, index, events, fake_embed, STATS, bg, disliked=disliked)
    assert 1 < table.model_count() < len(events)  # profiles are shared, and not all alike
    item_block, refs = block(items(rng, bodies), pool)
    matched = {(i, sid): m for i, ms in enumerate(Matcher(table, 0.5).match(item_block)) for m in ms
               for sid in m.subscriber_ids}

    parts = {p.payload["key"]: RefPart(np.asarray(p.dense, np.float32),
                                       dict(zip(p.payload["lexical_ids"], p.payload["lexical_weights"])),
                                       len(lexical.terms(p.payload["text"])))
             for p in index.of_kind(PART)}
    models = {p.payload["key"]: model_from_payload(p.payload)
              for p in index.of_kind(MODEL)}
    expected, ref_items = {}, RefItems(refs)
    for sub in table.subscribers.values():
        ok, z, score = decide_many(models[sub.model], parts, ref_items, 0.5)
        for i in np.flatnonzero(ok):
            expected[(int(i), sub.subscriber_id)] = (z[i], score[i])
    assert len(expected) > 50 and set(matched) == set(expected)
    for key, (z, score) in expected.items():
        assert abs(matched[key].z - z) < 1e-9 and abs(matched[key].score - round(score, 6)) < 1e-9


def test_a_crowd_gets_what_each_of_them_would_get_alone():
    rng = random.Random(11)
    bg, pool = background(rng)
    events = population(rng, 300)
    crowd = ProfileTable(DIM)
    apply_profile_events(crowd, None, events, fake_embed, STATS, bg)
    item_block, _ = block(items(rng, texts_of_items(rng, 40)), pool)
    together = [{sid for m in ms for sid in m.subscriber_ids} for ms in Matcher(crowd, 0.5).match(item_block)]
    for event in rng.sample(events, 25):
        alone = ProfileTable(DIM)
        apply_profile_events(alone, None, [event], fake_embed, STATS, bg)
        got = [{sid for m in ms for sid in m.subscriber_ids} for ms in Matcher(alone, 0.5).match(item_block)]
        assert [event.subscriber_id in t for t in together] == [event.subscriber_id in g for g in got]


def test_a_thousand_subscribers_sharing_one_statement_all_receive_the_item(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event(f"nurse-{n:04d}", interests=[AF_INTEREST]) for n in range(1000)])
    classifier.apply_profiles([profile_event("cardiologist", interests=[AF_INTEREST, "Heart failure drugs"])])
    assert classifier.table.model_count() == 2
    result = classifier.classify([AF])
    got = {m.subscriber_id for m in result.matched}
    assert {f"nurse-{n:04d}" for n in range(1000)} <= got
    assert len([m for m in result.matched if m.subscriber_id.startswith("nurse-")]) == 1000


def test_the_table_is_read_back_from_the_index_as_it_was(classifier):
    warm(classifier)
    classifier.apply_profiles([profile_event(f"s{n}", interests=[AF_INTEREST]) for n in range(5)]
                              + [profile_event("s5", interests=[AF_INTEREST], exclude=["warfarin"])])
    from services.classify.profile_sync import load_table

    reloaded = load_table(classifier.index, DIM)
    assert reloaded.model_count() == classifier.table.model_count() == 2
    assert reloaded.subscribers == classifier.table.subscribers
    item = item_event("doi:10.1/af-again", AF.item.title, AF.item.summary)
    before = {m.subscriber_id for m in classifier.classify([item]).matched}
    classifier.table, classifier.matcher.table = reloaded, reloaded
    again = item_event("doi:10.1/af-again2", AF.item.title, AF.item.summary)
    assert {m.subscriber_id for m in classifier.classify([again]).matched} == before == {f"s{n}" for n in range(5)}


def test_a_table_after_much_churn_decides_as_a_fresh_one():
    """Profiles added one by one, changed, deleted (segments merged, models dropped, the table
    compacted with its parts renumbered) decide exactly as a table built afresh from what is left."""
    from services.classify import table as table_module

    rng = random.Random(5)
    bg, pool = background(rng)
    events = population(rng, 160)
    churned, current, version = ProfileTable(DIM), {}, {}

    def apply(event):
        version[event.subscriber_id] = version.get(event.subscriber_id, 0) + 1
        event = event.model_copy(update={"version": version[event.subscriber_id]})
        apply_profile_events(churned, None, [event], fake_embed, STATS, bg)
        if event.deleted:
            current.pop(event.subscriber_id)
        else:
            current[event.subscriber_id] = event

    for n, event in enumerate(events):  # one at a time: a segment each, merged as they pile up
        apply(event)
        if n % 7 == 0:  # someone takes another's profile
            apply(rng.choice(events[: n + 1]).model_copy(update={"subscriber_id": rng.choice(list(current))}))
    for sid in rng.sample(sorted(current), 60):  # and some leave
        apply(current[sid].model_copy(update={"deleted": True, "profile": None}))
    assert churned.compactions >= 1 and len(churned.segments) <= table_module.MAX_SEGMENTS + 1
    fresh = ProfileTable(DIM)
    apply_profile_events(fresh, None, list(current.values()), fake_embed, STATS, bg)
    assert fresh.model_count() == churned.model_count()
    item_block, _ = block(items(rng, texts_of_items(rng, 40)), pool)
    a = [{sid for m in ms for sid in m.subscriber_ids} for ms in Matcher(churned, 0.5).match(item_block)]
    b = [{sid for m in ms for sid in m.subscriber_ids} for ms in Matcher(fresh, 0.5).match(item_block)]
    assert a == b and sum(map(len, a)) > 20


def test_models_fitted_many_at_once_on_threads_are_fitted_as_each_alone(monkeypatch):
    from services.classify import calibration
    from services.classify.calibration import add_parts, fit, unfitted
    from services.classify.profiles import spec_of

    monkeypatch.setattr(calibration, "CHUNK", 16)  # several chunks, fitted side by side
    rng = random.Random(13)
    bg, _ = background(rng)
    specs = list({s.key: s for s in (spec_of(e) for e in population(rng, 120))}.values())
    table = ProfileTable(DIM)
    roles, _ = add_parts(table.parts, specs, STATS, fake_embed, {})
    together = fit([unfitted(s, roles[s.key]) for s in specs], table.parts, bg)
    assert len(specs) > 3 * calibration.CHUNK
    for spec, model in zip(specs, together):
        [alone] = fit([unfitted(spec, roles[spec.key])], table.parts, bg)
        assert model.key == alone.key
        assert model.calibration.cut == pytest.approx(alone.calibration.cut, abs=1e-9)
        assert model.calibration.stats.keys() == alone.calibration.stats.keys()
        for name, stats in model.calibration.stats.items():
            assert stats == pytest.approx(alone.calibration.stats[name], abs=1e-9)
        assert (model.design or {}).keys() == (alone.design or {}).keys()
        for marker, weights in (model.design or {}).items():
            assert weights == pytest.approx(alone.design[marker], abs=1e-9)
