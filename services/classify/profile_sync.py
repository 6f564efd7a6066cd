"""Keeping the matching table and the profile index current from ProfileChanged events.

An event applies only above the stored version (or at it, applied again when an awaited example
paper arrives); a tombstone keeps its version. Subscribers with the same spec share one model,
fitted once (calibration.py). Points are written parts, then models, then subscribers, so that a
subscriber point never names a model the index lacks.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence

import numpy as np

from contracts import ProfileChanged
from services.classify import lexical
from services.classify.calibration import Background, EmbedFn, add_parts, fit, unfitted
from services.classify.index import ProfileIndex
from services.classify.profiles import (
    AWAITING, MODEL, PART, PROFILE, ProfileSpec, point_id, Subscriber, key_id, model_from_payload, model_point, part_from_payload,
    part_point, spec_of, subscriber_from_payload, subscriber_point,
)
from services.classify.table import ProfileTable

log = logging.getLogger(__name__)

DislikedFn = Callable[[ProfileChanged], tuple[list[str], np.ndarray]]


def latest_per_subscriber(events: Sequence[ProfileChanged]) -> list[ProfileChanged]:
    """The newest event of each subscriber in a batch (older ones in it are already superseded)."""
    latest: dict[str, ProfileChanged] = {}
    for e in events:
        if e.subscriber_id not in latest or e.version > latest[e.subscriber_id].version:
            latest[e.subscriber_id] = e
    return list(latest.values())


def apply_profile_events(
    table: ProfileTable, index: ProfileIndex | None, events: Sequence[ProfileChanged], embed: EmbedFn,
    stats: lexical.TermStats, background: Background | None = None, disliked: DislikedFn | None = None,
    again: bool = False,
) -> list[str]:
    """Apply what is new to the table (and the index, if given); return the subscriber ids whose
    profile changed. `disliked`: the ids and vectors of the items a subscriber marked not
    relevant that can be found; `again`: apply the stored version once more."""
    fresh = []
    for e in latest_per_subscriber(events):
        held = table.subscribers.get(e.subscriber_id)
        current = held.version if held is not None else -1
        if e.version < current or (e.version == current and not again):
            log.info("stale profile event ignored", extra={"subscriber_id": e.subscriber_id, "event_id": e.event_id,
                                                           "version": e.version})
            continue
        fresh.append(e)
    if not fresh:
        return []
    specs: dict[str, ProfileSpec] = {}
    vectors: dict[str, np.ndarray] = {}
    subscribers = []
    for e in fresh:
        if e.deleted or e.profile is None:
            subscribers.append(Subscriber(e.subscriber_id, e.organisation_id, e.version, deleted=True, active=False))
            continue
        found_ids, found = disliked(e) if disliked else ([], np.zeros((0, table.dim), np.float32))
        vectors.update(zip(found_ids, found))
        spec = spec_of(e, tuple(found_ids))
        specs.setdefault(spec.key, spec)
        subscribers.append(Subscriber(e.subscriber_id, e.organisation_id, e.version, sys.intern(spec.key),
                                      e.profile.active, e.profile.urgent_alerts))
    new = [s for s in specs.values() if not table.has_model(s.key)]
    if new:
        _add_models(table, index, new, embed, stats, background, vectors)
    dropped: list[str] = []
    for s in subscribers:
        dropped += table.assign(s)
    if index is not None:
        index.upsert([subscriber_point(s) for s in subscribers])
        index.delete([key_id(MODEL, k) for k in dropped] + [key_id(PART, k) for k in table.drain_dropped_parts()])
    for s in subscribers:
        log.debug("profile applied", extra={"subscriber_id": s.subscriber_id, "version": s.version, "deleted": s.deleted})
    log.info("profiles applied", extra={"profiles": len(subscribers), "new_models": len(new),
                                        "models": table.model_count()})
    return [s.subscriber_id for s in subscribers]


def _add_models(table: ProfileTable, index: ProfileIndex | None, specs: list[ProfileSpec], embed: EmbedFn,
                stats: lexical.TermStats, background: Background | None, vectors: dict[str, np.ndarray]) -> None:
    roles, added = add_parts(table.parts, specs, stats, embed, vectors)
    models = fit([unfitted(s, roles[s.key]) for s in specs], table.parts, background)
    if index is not None:
        index.upsert([part_point(p, table.parts.dense.data[table.parts.row[p.key]]) for p in added])
        index.upsert([model_point(m) for m in models])
    table.add_models(models)


def load_table(index: ProfileIndex, dim: int, owns: Callable[[str], bool] | None = None) -> ProfileTable:
    """The matching table as the index holds it (every point, read in pages); with `owns`, only
    the subscribers this shard owns (the others' points are removed: another shard has them)."""
    table = ProfileTable(dim)
    for page in index.scroll(PART, with_vectors=True):
        parts = [part_from_payload(h.payload) for h in page]
        table.parts.add(parts, np.asarray([h.dense for h in page], np.float32).reshape(len(page), dim))
    models = [model_from_payload(h.payload) for page in index.scroll(MODEL) for h in page]
    whole = [all(k in table.parts for keys in m.parts.values() for k in keys) for m in models]
    table.add_models([m for m, ok in zip(models, whole) if ok])
    broken = [m.key for m, ok in zip(models, whole) if not ok]
    orphans, foreign = 0, []
    for page in index.scroll(PROFILE):
        for h in page:
            s = subscriber_from_payload(h.payload)
            if owns is not None and not owns(s.subscriber_id):
                foreign.append(s.subscriber_id)
                continue
            if s.model and not table.has_model(s.model):
                orphans += 1
                log.error("subscriber's model missing from the index: not matched until the profile is applied again",
                          extra={"subscriber_id": s.subscriber_id})
                s = Subscriber(s.subscriber_id, s.organisation_id, -1, deleted=True, active=False)
            table.assign(s)
    if foreign:
        index.delete([point_id(s, kind) for s in foreign for kind in (PROFILE, AWAITING)])
        log.warning("profiles of other shards dropped", extra={"profiles": len(foreign)})
    unheld = table.drop_unheld()
    index.delete([key_id(MODEL, k) for k in unheld + broken])
    table.compact()
    index.delete([key_id(PART, k) for k in table.drain_dropped_parts()])
    if broken:
        log.error("models with missing parts left out", extra={"models": len(broken)})
    log.info("profile table loaded", extra={"parts": len(table.parts), "models": table.model_count(),
                                            "subscribers": len(table.subscribers), "orphans": orphans})
    return table
