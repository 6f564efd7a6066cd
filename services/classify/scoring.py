"""How one item scores against one profile: components, calibration, fusion, decision (pure).

Components, each a similarity in its own scale:
  interest  - best cosine to an interest statement
  example   - mean cosine to the example papers (a Rocchio centroid of "more like this")
  lexical   - BM25 of the item against the profile's words, expanded from its examples
  contrast  - similarity to what sets the examples apart from the profile's neighbourhood
              (Rocchio with negative feedback: examples minus the nearest background items)
  design    - how well the item's design markers (randomised, placebo, pharmacokinetic, rats...)
              match those of the examples rather than those of the profile's neighbourhood: a
              naive-Bayes log-likelihood ratio, each marker's example rate smoothed towards its
              neighbourhood rate (`design_weights`). It learns "trials comparing drugs" from a
              clinical profile's examples, and nothing clinical from a software-engineering one.
Each is standardised against the profile's own background (its scores over recent items:
mean and spread), so that scales and profiles become comparable, and the z-scores are
summed with fixed weights (CombSUM over z-normalised scores).

The fused z maps to a calibrated score in [0, 1] by a logistic curve centred on the profile's
own cut: the fused z that only DELIVERY_RATE of its background items reach (and never below
Z_FLOOR). A score of 0.5 thus means "as unusual for this profile as the top 0.4% of the
stream", which holds the same meaning for a broad profile and a narrow one, for a clinical
one and an out-of-domain one; raising the threshold above 0.5 delivers less.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

COMPONENTS = ("interest", "example", "lexical", "contrast", "design")

#: Weights of the standardised components (dense and lexical evidence count alike).
WEIGHTS = {"interest": 1.0, "example": 1.0, "lexical": 1.0, "contrast": 1.0, "design": 1.0}

#: Background statistics assumed before any item has been seen (measured on the dev corpus).
PRIOR = {"interest": (0.10, 0.08), "example": (0.15, 0.08), "lexical": (0.5, 1.0), "contrast": (0.0, 0.1),
         "design": (0.0, 1.0)}

#: Pseudo-count of the neighbourhood's rate in each marker's example rate (3 examples weigh
#: less than this); the neighbourhood's own add-half smoothing.
DESIGN_PRIOR = 8.0

#: Share of background items a profile's cut lets through; the cut's floor; the cut before any
#: background exists; the logistic slope around the cut.
DELIVERY_RATE = 0.004
Z_FLOOR = 8.0
Z_MID = 10.0
Z_SLOPE = 1.0


@dataclass(frozen=True)
class Calibration:
    """Mean and spread of each component over the profile's background items."""

    stats: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(PRIOR))
    cut: float = Z_MID

    def z(self, name: str, value: float) -> float:
        mean, std = self.stats.get(name, PRIOR[name])
        return (value - mean) / max(std, 1e-6)

    def as_payload(self) -> dict:
        return {"stats": {k: [float(m), float(s)] for k, (m, s) in self.stats.items()}, "cut": float(self.cut)}

    @classmethod
    def from_payload(cls, raw: Mapping | None) -> "Calibration":
        if not raw:
            return cls()
        stats = {k: (float(v[0]), float(v[1])) for k, v in raw.get("stats", {}).items()}
        return cls({**PRIOR, **stats}, float(raw.get("cut", Z_MID)))


def calibrate(columns: Mapping[str, np.ndarray], min_items: int = 50) -> Calibration:
    """Background statistics and the cut, from component scores over background items."""
    columns = {k: v for k, v in columns.items() if v is not None and len(v) >= min_items}
    if not columns:
        return Calibration()
    stats = dict(PRIOR)
    for name, values in columns.items():
        stats[name] = (float(np.mean(values)), float(np.std(values)) or 1e-3)
    partial = Calibration(stats)
    n = len(next(iter(columns.values())))
    fused = [fuse({k: float(v[i]) for k, v in columns.items()}, partial) for i in range(n)]
    cut = max(float(np.quantile(fused, 1.0 - DELIVERY_RATE)), Z_FLOOR)
    return Calibration(stats, cut)


def fuse(components: Mapping[str, float | None], calibration: Calibration) -> float:
    """Weighted sum of standardised components; missing ones (no examples, say) are left out
    and the sum is rescaled so that profiles with fewer parts are not penalised."""
    total, weight = 0.0, 0.0
    for name in COMPONENTS:
        value = components.get(name)
        if value is None:
            continue
        total += WEIGHTS[name] * calibration.z(name, value)
        weight += WEIGHTS[name]
    if weight == 0:
        return float("-inf")
    return total * sum(WEIGHTS.values()) / weight


DesignWeights = dict[str, tuple[float, float]]  # marker -> (weight if present, weight if absent)


def design_weights(
    examples: Sequence[frozenset[str]], neighbours: Sequence[frozenset[str]], features: Sequence[str],
) -> DesignWeights:
    """Log-likelihood ratios of each design marker, present and absent, between the example
    papers and the profile's neighbourhood; markers that tell nothing apart are left out."""
    if not examples or not neighbours:
        return {}
    out: DesignWeights = {}
    for f in features:
        q = (sum(f in n for n in neighbours) + 0.5) / (len(neighbours) + 1.0)
        p = (sum(f in e for e in examples) + DESIGN_PRIOR * q) / (len(examples) + DESIGN_PRIOR)
        present, absent = math.log(p / q), math.log((1.0 - p) / (1.0 - q))
        if abs(present) > 1e-9 or abs(absent) > 1e-9:
            out[f] = (present, absent)
    return out


def design_score(weights: Mapping[str, Sequence[float]], features: frozenset[str]) -> float:
    """The item's log-likelihood ratio of being designed like the examples."""
    return sum(w[0] if f in features else w[1] for f, w in weights.items())


def calibrated_score(z: float, cut: float = Z_MID) -> float:
    """The fused z as a score in [0, 1]; 0.5 at the profile's cut."""
    if z == float("-inf"):
        return 0.0
    x = -Z_SLOPE * (z - cut)
    return 0.0 if x > 700 else 1.0 / (1.0 + math.exp(x))
