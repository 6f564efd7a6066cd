"""`horizon bench scale`: a national population through the production path, reach checked exactly.

In one run, on this machine:
1. a realistic population (population.py) is applied through classify's own use case
   (Classifier.apply_profiles: specs, shared models fitted against the background, parts, models
   and subscribers written to a Qdrant Edge index) after a day of items has been seen
   (`index_build_s`, what the index and the table hold);
2. the items are classified in batches of 64, as the app does, every ItemMatched event built
   (`classify_items_per_s` with fan-out, `matched_events`);
3. on a random sample of the items, the subscribers the production path matched are compared
   with those that plain exhaustive scoring of every profile accepts (reference.py, each model
   read back from the index, its subscribers from their own points): `reach_recall` (and
   `reach_precision`, which should be 1.0 too);
4. notify's own use case applies events, composes and sends digests to a real SMTP server on
   loopback, against that server's floor in the same run (notify.py): `weekly_send_hours` is the
   time one notify process needs for one week of digests at that rate.
"""

from __future__ import annotations

import logging
import random
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from horizon.bench.population import DATA, item_events, load_corpus, profiles
from horizon.bench.reference import RefItem, RefItems, RefPart, decide_many
from services.classify import lexical
from services.classify.profiles import MODEL, PART, PROFILE, model_from_payload, subscriber_from_payload

log = logging.getLogger(__name__)

#: Items seen before the profiles are applied: the recent items they are calibrated against.
WARM_ITEMS = 2000
BATCH = 64

from horizon.progress import Progress


def _quiet(step: str, done: int, total: int) -> None:
    return None


def run(subscribers: int = 1_000_000, items: int = 20_000, sample: int = 200, data: Path = DATA,
        progress: Progress = _quiet, notify_subscribers: int = 2000, notify: bool = True) -> dict:
    from services.classify.bootstrap import build_classifier
    from services.classify.settings import ClassifySettings

    corpus = load_corpus(data)
    out: dict = {"subscribers": subscribers, "items": items}
    with tempfile.TemporaryDirectory(prefix="horizon-scale-") as tmp:
        settings = ClassifySettings(data_dir=Path(tmp), api_port=0)
        classifier = build_classifier(settings)
        try:
            warm = item_events(corpus, WARM_ITEMS)
            for start in range(0, len(warm), BATCH):
                classifier.classify(warm[start:start + BATCH])
                progress("a day of items seen first", start + BATCH, len(warm))
            started = time.perf_counter()
            done = 0
            for batch in profiles(corpus, subscribers):
                classifier.apply_profiles(batch)
                done += len(batch)
                progress("profiles applied", done, subscribers)
            out["index_build_s"] = round(time.perf_counter() - started, 1)
            table = classifier.table
            out["distinct_statements"] = sum(1 for k in table.parts.keys if k.startswith("interest:"))
            out["distinct_profiles"] = table.model_count()
            out["interest_points"] = _interest_points(classifier)
            out["index_mb"] = round(_disk_mb(Path(tmp) / "profiles"), 1)
            matched, chosen, seen = _classify(classifier, corpus, items, sample, progress)
            out.update(matched)
            out.update(_reach(classifier, chosen, seen, progress))
        finally:
            classifier.close()
    if not notify:
        return out
    from horizon.bench.notify import measure_notify

    sent = measure_notify(subscribers=notify_subscribers, progress=lambda step: progress(step, 0, 0))
    out["notify_events_per_s"] = round(sent["notify_events_per_s"], 1)
    out["digests_per_s"] = round(sent["digests_per_s"], 1)
    out["smtp_floor_per_s"] = round(sent["smtp_floor_per_s"], 1)
    out["weekly_send_hours"] = round(subscribers / max(sent["digests_per_s"], 1e-9) / 3600, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def _interest_points(classifier) -> int:
    """Interest statements over all subscribers (what a point-per-statement index would hold)."""
    table = classifier.table
    per_model: dict[str, int] = {}
    for seg in table.segments:
        counts = seg.entries["interest"].counts
        per_model.update((k, int(c)) for k, c, alive in zip(seg.keys, counts, seg.live) if alive)
    return sum(per_model.get(s.model, 0) for s in table.subscribers.values() if s.model)


def _disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _classify(classifier, corpus, n: int, sample: int, progress: Progress):
    events = item_events(corpus, n, start=WARM_ITEMS)
    chosen = set(random.Random(3).sample(range(n), min(sample, n)))
    seen: dict[int, tuple[RefItem, set[str]]] = {}
    matched = 0
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        batch = events[start:start + BATCH]
        result = classifier.classify(batch)
        matched += sum(1 for _ in result.matched_events())  # every event built, as the app builds them
        block = classifier.last_items
        for j in range(len(batch)):
            if start + j in chosen:
                item_id = batch[j].item.item_id
                ref = RefItem(block.dense[j], block.lexical[j], block.design[j], block.evidence_type[j],
                              block.source_id[j], block.tags[j], block.terms[j])
                seen[start + j] = (ref, {s for e, _, _, ms in result.groups if e.item.item_id == item_id
                                         for m in ms for s in m.subscriber_ids})
        progress("items classified", start + len(batch), n)
    elapsed = time.perf_counter() - started
    return {"classify_items_per_s": round(n / elapsed, 2), "matched_events": matched,
            "fan_out_per_item": round(matched / n, 1)}, chosen, seen


def _reach(classifier, chosen: set[int], seen: dict, progress: Progress) -> dict:
    """Production deliveries on the sample against plain scoring of every profile in the index."""
    index, dim = classifier.index, classifier.dim
    order = sorted(seen)
    items = RefItems([seen[i][0] for i in order])
    parts = {}
    for page in index.scroll(PART, with_vectors=True):
        for h in page:
            p = h.payload
            parts[p["key"]] = RefPart(np.asarray(h.dense, np.float64),
                                      dict(zip(p["lexical_ids"], p["lexical_weights"])),
                                      len(lexical.terms(p["text"])) if p["role"] == "interest" else 0)
    holders: dict[str, list[str]] = defaultdict(list)
    for page in index.scroll(PROFILE):
        for h in page:
            s = subscriber_from_payload(h.payload)
            if s.model and s.active and not s.deleted:
                holders[s.model].append(s.subscriber_id)
    expected: list[set[str]] = [set() for _ in order]
    done, total = 0, len(holders)
    for page in index.scroll(MODEL):
        for h in page:
            model = model_from_payload(h.payload)
            ok, _, _ = decide_many(model, parts, items, classifier.matcher.threshold)
            for j in np.flatnonzero(ok):
                expected[j].update(holders.get(model.key, ()))
        done += len(page)
        progress("exhaustive scoring of every profile", done, total)
    want = sum(len(e) for e in expected)
    got = sum(len(seen[i][1]) for i in order)
    hit = sum(len(e & seen[i][1]) for e, i in zip(expected, order))
    return {"reach_sample_items": len(order), "reach_expected": want,
            "reach_recall": round(hit / want, 6) if want else 1.0,
            "reach_precision": round(hit / got, 6) if got else 1.0}
