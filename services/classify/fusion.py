"""How an item scores against a profile: its components, their weights, the profile's calibration,
and the arithmetic that computes it for every profile against every item at once (pure numpy).

Components, each a similarity in its own scale: interest (the best cosine to an interest
statement), example (the mean cosine to the example papers), lexical (BM25 of the item's words,
expanded from its nearest recent items, against the profile's words) and design (how well the
item's design markers, randomised, placebo, pharmacokinetic, rats..., match those of the
examples rather than those of the profile's neighbourhood: a naive-Bayes log-likelihood ratio,
`design_weights`; it learns "trials comparing drugs" from a clinical profile's examples, and
nothing clinical from a software-engineering one). Each is standardised against the profile's
own background (mean and spread over recent items), and the z-scores are summed (CombSUM) in two
parts: the topical part (interest and lexical: is the item about what the subscriber said?) and
the fit part (example and design: is it like their example papers, and their kind of study?).
Fit counts through a gate on the topical part, a logistic step at the topical z that only the
top GATE_SHARE of the background reaches, so a trial that merely looks like the examples cannot
outrank items on the subject; with no background yet the gate stays at one half (plain CombSUM).

The fused z maps to a score in [0, 1] by a logistic curve centred on the profile's own cut, the
fused z that only DELIVERY_RATE of its background reaches (never below Z_FLOOR): 0.5 means "as
unusual for this profile as the top 0.4% of the stream", for a broad profile or a narrow one.

The arithmetic as arrays: every profile in the table against every item, with no
candidates and no top-k (horizon/bench/reference.py writes it out plainly for one profile). A
profile's components come from its parts: `Entries` lists which parts each profile has in a
role, and a segmented reduction (numpy's reduceat) gives the best statement, the mean over the
examples and the weighted sum of the parts' BM25 scores for all profiles at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

COMPONENTS = ("interest", "example", "lexical", "design")
#: What the item is about (the gate's input), and how well it fits the examples (what the gate lets through).
TOPICAL = ("interest", "lexical")
FIT = ("example", "design")

#: Weights of the standardised components (dense and lexical evidence count alike).
WEIGHTS = {"interest": 1.0, "example": 1.0, "lexical": 1.0, "design": 1.0}

#: Background statistics assumed before any item has been seen (measured on the dev corpus).
PRIOR = {"interest": (0.10, 0.08), "example": (0.15, 0.08), "lexical": (0.5, 1.0), "design": (0.0, 1.0)}

#: Pseudo-count of the neighbourhood's rate in each marker's example rate (3 examples weigh
#: less than this); the neighbourhood's own add-half smoothing.
DESIGN_PRIOR = 8.0

#: Share of background items a profile's cut lets through; the cut's floor; the cut before any
#: background exists (the floor and that cut: 1.6 and 2 z per component, as they were when the
#: fused z summed five); the logistic slope around the cut.
DELIVERY_RATE = 0.004
Z_FLOOR = 6.4
Z_MID = 8.0
Z_SLOPE = 1.0

#: Share of the background whose topical z opens the gate; the gate's slope per background
#: spread of the topical z; the fit part's weight with the gate fully open (half of it at the
#: gate's midpoint, and before any background: plain CombSUM).
GATE_SHARE = 0.05
GATE_SLOPE = 4.0
FIT_WEIGHT = 2.0


@dataclass(frozen=True)
class Calibration:
    """Mean and spread of each component over the profile's background items."""

    stats: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(PRIOR))
    cut: float = Z_MID
    #: The topical z at the gate's midpoint and its background spread; None: gate held at one half.
    gate: tuple[float, float] | None = None

    def stats_of(self, name: str) -> tuple[float, float]:
        """The component's background mean and spread."""
        return self.stats.get(name, PRIOR[name])

    def as_payload(self) -> dict:
        out = {"stats": {k: [float(m), float(s)] for k, (m, s) in self.stats.items()}, "cut": float(self.cut)}
        if self.gate is not None:
            out["gate"] = [float(self.gate[0]), float(self.gate[1])]
        return out

    @classmethod
    def from_payload(cls, raw: Mapping | None) -> "Calibration":
        if not raw:
            return cls()
        # statistics of components since removed (stored by an earlier version) are left out
        stats = {k: (float(v[0]), float(v[1])) for k, v in raw.get("stats", {}).items() if k in PRIOR}
        gate = raw.get("gate")
        return cls({**PRIOR, **stats}, float(raw.get("cut", Z_MID)),
                   (float(gate[0]), float(gate[1])) if gate else None)


DesignWeights = dict[str, tuple[float, float]]  # marker -> (weight if present, weight if absent)


def design_weights(in_examples: np.ndarray, n_examples: int, in_neighbours: np.ndarray, n_neighbours: int,
                   features: Sequence[str]) -> DesignWeights:
    """Log-likelihood ratios of each design marker, present and absent, between the example
    papers and the profile's neighbourhood, from how many of each carry it: each marker's example
    rate smoothed towards its neighbourhood rate (DESIGN_PRIOR), against that rate. Markers that
    tell nothing apart are left out."""
    q = (in_neighbours + 0.5) / (n_neighbours + 1.0)
    p = (in_examples + DESIGN_PRIOR * q) / (n_examples + DESIGN_PRIOR)
    present, absent = np.log(p / q), np.log((1.0 - p) / (1.0 - q))
    keep = (np.abs(present) > 1e-9) | (np.abs(absent) > 1e-9)
    return {f: (float(present[i]), float(absent[i])) for i, f in enumerate(features) if keep[i]}


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

