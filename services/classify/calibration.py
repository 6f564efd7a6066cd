"""Fitting new profile models against the background items, many at once (numpy).

Each model is calibrated against a sample of recent items (fusion.py): each component's mean
and spread, the gate, the cut. The background also gives a model its neighbourhood, the items it
scores highest, against which its design-marker weights (what kind of study the examples are)
are learnt. Models are fitted in chunks of CHUNK, each step an array operation over the chunk,
so that loading a national population of profiles takes minutes, not days.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from scipy import sparse as sp

from services.classify import lexical
from services.classify.evidence import asked_evidence_types
from services.classify.fusion import DESIGN, Calibration, calibrate_many, design_weights, fused
from services.classify.parts import DISLIKED, EXAMPLE, Part, PartStore, coordinates, vocab_matrix
from services.classify.profiles import ProfileModel, ProfileSpec, spec_parts
from services.classify.segment import FEATURES, Items, Segment

#: Fewer background items than this leave a model at the prior's statistics (as fusion.calibrate_many).
MIN_BACKGROUND = 50
#: Share of the background (and its bounds) whose design markers the examples' are compared with.
DESIGN_NEIGHBOURHOOD = 0.2
DESIGN_NEIGHBOURS = (50, 400)
#: Models fitted together (memory: components x CHUNK x background floats per step).
CHUNK = 512

EmbedFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Background(Items):
    """The items profiles are calibrated against: vectors, BM25 vectors expanded from their
    neighbours (neighbours.within), and design markers."""

    @cached_property
    def _terms(self) -> tuple[np.ndarray, sp.csr_matrix]:
        rows, ids, weights = coordinates(self.lexical)
        vocab = np.unique(ids)
        return vocab, vocab_matrix(rows, ids, weights, len(self.lexical), vocab)

    def bm25(self, parts: PartStore, rows: np.ndarray) -> np.ndarray:
        """The lexical score of each part in `rows` against each background item: (rows x items)."""
        vocab, matrix = self._terms
        part_matrix = vocab_matrix(*parts.lexical_of(rows), len(rows), vocab)
        return np.asarray((part_matrix @ matrix.T).todense(), dtype=np.float64).reshape(len(rows), len(self))


def add_parts(store: PartStore, specs: Sequence[ProfileSpec], stats: lexical.TermStats, embed: EmbedFn,
              disliked: dict[str, np.ndarray]) -> tuple[dict[str, dict[str, list[Part]]], list[Part]]:
    """Put every part of these specs in the store (embedding the new texts in one batch);
    returns each spec's parts by role (by spec key), and the parts added."""
    by_spec = {s.key: spec_parts(s, stats, store) for s in specs}
    new: dict[str, Part] = {}
    for roles in by_spec.values():
        for role_parts in roles.values():
            new.update((p.key, p) for p in role_parts if p.key not in store and p.key not in new)
    texts = [p for p in new.values() if p.role != DISLIKED]
    vectors = embed([p.text for p in texts]) if texts else np.zeros((0, store.dim), np.float32)
    items = [p for p in new.values() if p.role == DISLIKED]
    item_vectors = np.asarray([disliked[p.text] for p in items], np.float32).reshape(len(items), store.dim)
    store.add(texts + items, np.vstack([np.asarray(vectors, np.float32).reshape(len(texts), store.dim), item_vectors]))
    return by_spec, texts + items


def unfitted(spec: ProfileSpec, roles: dict[str, list[Part]]) -> ProfileModel:
    """The model of a spec (its parts by role) before calibration: the prior's statistics."""
    return ProfileModel(
        key=spec.key, parts={role: [p.key for p in ps] for role, ps in roles.items()},
        example_refs=[label for label, _ in spec.examples],
        word_exclusions=[list(w) for w in spec.word_exclusions], topics=list(spec.topics),
        content_types=list(spec.content_types), sources=list(spec.sources),
        asked_types=list(dict.fromkeys(str(k) for s in spec.interests for k in asked_evidence_types(s))),
        translated_ok=any(lexical.translated(text) for _, text in spec.examples),
    )


def fit(models: Sequence[ProfileModel], store: PartStore, background: Background | None) -> list[ProfileModel]:
    """The models calibrated against the background, with their design weights (prior ->
    design -> final statistics); unfitted models as they are, where the background is too small."""
    if background is None or len(background) < MIN_BACKGROUND:
        return list(models)
    chunks = [list(models[start:start + CHUNK]) for start in range(0, len(models), CHUNK)]
    if len(chunks) == 1:
        return _fit_chunk(chunks[0], store, background)
    store.matrix(), background.markers, background.bm25(store, np.zeros(0, np.int64))  # built once, before the threads
    # numpy lets go of the GIL in the array work: chunks fitted side by side use every core
    with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
        return [m for fitted in pool.map(lambda c: _fit_chunk(c, store, background), chunks) for m in fitted]


def _fit_chunk(models: list[ProfileModel], store: PartStore, bg: Background) -> list[ProfileModel]:
    segment = Segment.compile(models, store)
    used = np.unique(segment.part_rows(np.ones(len(models), bool)))
    part_map = np.full(len(store), -1, np.int64)
    part_map[used] = np.arange(len(used))
    part_cos, part_lex = store.cosines(bg.dense, used), bg.bm25(store, used)

    def calibrations(compiled: Segment, design: bool) -> tuple[Segment, np.ndarray, list[Calibration]]:
        seg = Segment.merge([compiled], part_map)  # the parts renumbered to the rows of `used`
        comps, _ = seg.components(part_cos, part_lex, bg.markers)
        present = seg.present()
        present[:, DESIGN] &= design
        return seg, comps, calibrate_many(comps, present)

    seg, comps, base = calibrations(segment, design=False)
    seg.calibrate(base)
    designs = _designs(seg, fused(seg.maps, comps), [store.designs[r] for r in used], bg)
    _, _, final = calibrations(Segment.compile([replace(m, design=d) for m, d in zip(models, designs)], store), True)
    return [replace(m, calibration=c, design=d) for m, c, d in zip(models, final, designs)]


def _designs(seg: Segment, z: np.ndarray, designs: Sequence[frozenset[str]], bg: Background) -> list[dict | None]:
    """Design-marker log-likelihood ratios of the examples against the neighbourhood
    (fusion.design_weights), for each model with examples; `designs`: the segment's parts' markers."""
    examples = seg.entries[EXAMPLE]
    out: list[dict | None] = [None] * len(seg)
    has = np.flatnonzero(examples.counts > 0)
    if not len(has):
        return out
    k = int(np.clip(DESIGN_NEIGHBOURHOOD * len(bg), *DESIGN_NEIGHBOURS))
    neighbours = np.argsort(-z[has], axis=1)[:, :k]
    for row, nb in zip(has, neighbours):
        ex = examples.part[examples.starts[row]:examples.starts[row] + examples.counts[row]]
        found = np.array([[f in designs[r] for f in FEATURES] for r in ex], dtype=np.float64).sum(axis=0)
        out[row] = design_weights(found, len(ex), bg.markers[nb].sum(axis=0), len(nb), FEATURES) or None
    return out
