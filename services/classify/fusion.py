"""Many profiles against many items at once (pure numpy): components, calibration, fused z.

The arithmetic of scoring.py as arrays: every profile in the table against every item, with no
candidates and no top-k (horizon/bench/reference.py writes it out plainly for one profile). A
profile's components come from its parts: `Entries` lists which parts each profile has in a
role, and a segmented reduction (numpy's reduceat) gives the best statement, the mean over the
examples and the weighted sum of the parts' BM25 scores for all profiles at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.classify.scoring import (
    COMPONENTS, DELIVERY_RATE, FIT, FIT_WEIGHT, GATE_SHARE,
    GATE_SLOPE, PRIOR, TOPICAL, WEIGHTS, Z_FLOOR, Z_SLOPE, Calibration,
)

INTEREST, EXAMPLE, LEXICAL, DESIGN = range(len(COMPONENTS))
_TOPICAL = [COMPONENTS.index(c) for c in TOPICAL]
_FIT = [COMPONENTS.index(c) for c in FIT]
_WEIGHT = np.array([WEIGHTS[c] for c in COMPONENTS])


@dataclass(frozen=True)
class Entries:
    """Which parts each of n profiles has in one role, grouped by profile (its rows in order)."""

    owner: np.ndarray  # int64 (E,): the profile of each entry, non-decreasing
    part: np.ndarray  # int64 (E,): the part row
    weight: np.ndarray  # float64 (E,): the entry's weight (lexical coefficients; 1 elsewhere)
    starts: np.ndarray  # int64 (n,): where each profile's entries start
    counts: np.ndarray  # int64 (n,)

    @classmethod
    def build(cls, n: int, owner: Sequence[int], part: Sequence[int], weight: Sequence[float] | None = None) -> "Entries":
        order = np.argsort(np.asarray(owner, dtype=np.int64), kind="stable")
        owner_a = np.asarray(owner, dtype=np.int64)[order]
        weight_a = np.ones(len(order)) if weight is None else np.asarray(weight, dtype=np.float64)[order]
        counts = np.bincount(owner_a, minlength=n).astype(np.int64)
        return cls(owner_a, np.asarray(part, dtype=np.int64)[order], weight_a, np.cumsum(counts) - counts, counts)

    def take(self, rows: np.ndarray, renumber: np.ndarray, part_map: np.ndarray | None = None) -> "Entries":
        """The entries of profiles `rows` (a boolean mask), owners renumbered by `renumber`, parts
        mapped through `part_map` where given."""
        keep = rows[self.owner]
        part = self.part[keep] if part_map is None else part_map[self.part[keep]]
        return Entries.build(int(rows.sum()), renumber[self.owner[keep]], part, self.weight[keep])

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, empty: float) -> np.ndarray:
        """ufunc over each profile's entries of `values` (E, k); `empty` where a profile has none."""
        rows = np.flatnonzero(self.counts)
        if len(rows) == len(self.counts):
            return ufunc.reduceat(values, self.starts, axis=0) if len(rows) else np.zeros((0, values.shape[1]))
        out = np.full((len(self.counts), values.shape[1]), empty)
        if len(rows):
            out[rows] = ufunc.reduceat(values, self.starts[rows], axis=0)
        return out


def interest(entries: Entries, part_cos: np.ndarray) -> np.ndarray:
    """The best statement's cosine, per profile and item (-inf without statements)."""
    return entries.reduce(np.maximum, part_cos[entries.part], -np.inf)


def example(entries: Entries, part_cos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the example papers' cosines, and their plain maximum (which an exclusion is
    weighed against)."""
    values = part_cos[entries.part]
    top = entries.reduce(np.maximum, values, -np.inf)
    mean = entries.reduce(np.add, values, 0.0) / np.maximum(entries.counts, 1)[:, None]
    mean[entries.counts == 0] = -np.inf
    return mean, top


def lexical(entries: Entries, part_lex: np.ndarray) -> np.ndarray:
    """The profile's BM25 score: its parts' scores, weighted by their lexical coefficients."""
    return entries.reduce(np.add, part_lex[entries.part] * entries.weight[:, None], 0.0)


@dataclass(frozen=True)
class Maps:
    """Each profile's fusion as affine maps: z of component c = scale * value + offset; which
    components it has; its gate (nan: held at one half); the rescaling for missing components;
    its cut."""

    scale: np.ndarray  # (n, components)
    offset: np.ndarray  # (n, components)
    present: np.ndarray  # (n, components) bool
    gate: np.ndarray  # (n, 2)
    rescale: np.ndarray  # (n,)
    cut: np.ndarray  # (n,)

    @classmethod
    def of(cls, calibrations: Sequence[Calibration], present: np.ndarray) -> "Maps":
        n = len(calibrations)
        stats = np.array([[cal.stats_of(name) for name in COMPONENTS] for cal in calibrations], dtype=np.float64)
        stats = stats.reshape(n, len(COMPONENTS), 2)  # mean and spread of each component
        gate = np.array([cal.gate or (np.nan, np.nan) for cal in calibrations], dtype=np.float64).reshape(n, 2)
        cut = np.array([cal.cut for cal in calibrations], dtype=np.float64)
        return cls.from_stats(stats[..., 0], stats[..., 1], present, gate, cut)

    @classmethod
    def from_stats(cls, mean: np.ndarray, std: np.ndarray, present: np.ndarray, gate: np.ndarray,
                   cut: np.ndarray) -> "Maps":
        scale = _WEIGHT / np.maximum(std, 1e-6)
        weight = (present * _WEIGHT).sum(axis=1)
        with np.errstate(divide="ignore"):
            rescale = np.where(weight > 0, _WEIGHT.sum() / np.where(weight > 0, weight, 1.0), 0.0)
        return cls(scale, -mean * scale, present.astype(bool), gate, rescale, cut)


def _part(maps: Maps, comps: np.ndarray, which: Sequence[int]) -> np.ndarray:
    """The summed z of some components (TOPICAL or FIT), per profile and item."""
    out = np.zeros(comps.shape[1:])
    offset = np.zeros(comps.shape[1])
    for c in which:
        has = maps.present[:, c]
        if has.any():
            out += comps[c] * np.where(has, maps.scale[:, c], 0.0)[:, None]
            offset += np.where(has, maps.offset[:, c], 0.0)
    out += offset[:, None]
    return out


def _logistic(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^x), with e^x capped at e^700 (about 1e-304 where it would overflow); in place
    on a copy, as this runs over every profile and item."""
    out = np.minimum(x, 700.0)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def gate_at(maps: Maps, topical: np.ndarray) -> np.ndarray:
    """How much of the fit part counts (0 to 1), per profile and item."""
    mid, spread = maps.gate[:, :1], maps.gate[:, 1:]
    return np.where(np.isnan(mid), 0.5, _logistic(-GATE_SLOPE * (topical - mid) / np.maximum(spread, 1e-6)))


def fused(maps: Maps, comps: np.ndarray, topical: np.ndarray | None = None) -> np.ndarray:
    """The fused z of every profile against every item: the topical part plus the gated fit part,
    rescaled so that a profile missing a component (no examples, say) is not penalised; -inf for
    a profile with none. `topical`: the topical part, where the caller has it already."""
    topical = _part(maps, comps, _TOPICAL) if topical is None else topical
    fit = _part(maps, comps, _FIT)
    z = (topical + FIT_WEIGHT * gate_at(maps, topical) * fit) * maps.rescale[:, None]
    z[~maps.present.any(axis=1)] = -np.inf
    return z


def calibrated(z: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """The fused z as a score in [0, 1]: 0.5 at each profile's cut, 0 for -inf."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isneginf(z), 0.0, _logistic(-Z_SLOPE * (z - cut[:, None])))


def calibrate_many(comps: np.ndarray, present: np.ndarray, min_items: int = 50) -> list[Calibration]:
    """Each profile's Calibration from its components over the background items: comps
    (components, n, B), present (n, components)."""
    n, items = comps.shape[1], comps.shape[2]
    if items < min_items:
        return [Calibration() for _ in range(n)]
    prior = np.array([PRIOR[c] for c in COMPONENTS])  # (components, 2)
    own_std = comps.std(axis=2).T  # (n, components)
    mean = np.where(present, comps.mean(axis=2).T, prior[:, 0])
    std = np.where(present, np.where(own_std == 0, 1e-3, own_std), prior[:, 1])
    gated = present[:, _TOPICAL].any(axis=1) & present[:, _FIT].any(axis=1)
    no_gate = np.full((n, 2), np.nan)
    cut0 = np.zeros(n)
    topical = _part(Maps.from_stats(mean, std, present, no_gate, cut0), comps, _TOPICAL)
    t_std = topical.std(axis=1)
    gate = np.where(gated[:, None], np.stack([np.quantile(topical, 1.0 - GATE_SHARE, axis=1),
                                              np.where(t_std == 0, 1e-3, t_std)], axis=1), np.nan)
    z = fused(Maps.from_stats(mean, std, present, gate, cut0), comps, topical)
    scored = present.any(axis=1)  # a topics-only profile has no z: it keeps the default cut
    cut = np.where(scored, np.maximum(np.quantile(np.where(scored[:, None], z, 0.0), 1.0 - DELIVERY_RATE, axis=1),
                                      Z_FLOOR), Calibration().cut)
    out = []
    for i in range(n):
        stats = dict(PRIOR)
        stats.update((name, (float(mean[i, c]), float(std[i, c]))) for c, name in enumerate(COMPONENTS) if present[i, c])
        g = (float(gate[i, 0]), float(gate[i, 1])) if gated[i] else None
        out.append(Calibration(stats, float(cut[i]), g))
    return out

