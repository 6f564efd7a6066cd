"""How one item scores against one profile: components, calibration, fusion, decision (pure).

Components, each a similarity in its own scale:
  interest  - best cosine to an interest statement
  example   - mean cosine to the example papers (a Rocchio centroid of "more like this")
  lexical   - BM25 of the item against the profile's words, expanded from its examples
Each is standardised against the profile's own background (its scores over recent items:
mean and spread), so that scales and profiles become comparable, and the z-scores are
summed with fixed weights (CombSUM over z-normalised scores). The fused z maps to a
calibrated score in [0, 1] by a logistic curve; the threshold applies to that score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

COMPONENTS = ("interest", "example", "lexical")

#: Weights of the standardised components (dense and lexical evidence count alike).
WEIGHTS = {"interest": 1.0, "example": 1.0, "lexical": 1.0}

#: Background statistics assumed before any item has been seen (measured on the dev corpus).
PRIOR = {"interest": (0.10, 0.08), "example": (0.15, 0.08), "lexical": (0.5, 1.0)}

#: Logistic calibration: fused z at which the score is 0.5, and its slope.
Z_MID = 6.0
Z_SLOPE = 1.0


@dataclass(frozen=True)
class Calibration:
    """Mean and spread of each component over the profile's background items."""

    stats: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(PRIOR))

    def z(self, name: str, value: float) -> float:
        mean, std = self.stats.get(name, PRIOR[name])
        return (value - mean) / max(std, 1e-6)

    def as_payload(self) -> dict[str, list[float]]:
        return {k: [float(m), float(s)] for k, (m, s) in self.stats.items()}

    @classmethod
    def from_payload(cls, raw: Mapping[str, list[float]] | None) -> "Calibration":
        if not raw:
            return cls()
        return cls({k: (float(v[0]), float(v[1])) for k, v in raw.items()})


def calibrate(columns: Mapping[str, np.ndarray], min_items: int = 50) -> Calibration:
    """Background statistics from component scores over background items (one array each)."""
    stats = dict(PRIOR)
    for name, values in columns.items():
        if values is not None and len(values) >= min_items:
            stats[name] = (float(np.mean(values)), float(np.std(values)) or 1e-3)
    return Calibration(stats)


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


def calibrated_score(z: float) -> float:
    """The fused z as a score in [0, 1]."""
    if z == float("-inf"):
        return 0.0
    return 1.0 / (1.0 + math.exp(-Z_SLOPE * (z - Z_MID)))
