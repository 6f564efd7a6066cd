"""How one item scores against one profile: components, calibration, fusion, decision (pure).

Components, each a similarity in its own scale:
  interest  - best cosine to an interest statement
  example   - the mean of the cosines to the example papers (`example_score`)
  lexical   - BM25 of the item against the profile's words, expanded from its examples; the
              item's own words mixed with its nearest recent items' (neighbours.py)
Each is standardised against the profile's own background (its scores over recent items:
mean and spread), so that scales and profiles become comparable. The z-scores are summed with
fixed weights (CombSUM over z-normalised scores), in two parts. The topical part (interest and
lexical: what the subscriber said, by meaning and by words) says whether the item is about the
profile at all; the fit part (example: likeness to the example papers) says whether it is the
item they want among those. Fit counts in proportion to a gate on the topical part: a logistic
step at the topical z that only the top GATE_SHARE of the profile's background reaches. A
randomised trial of beta blockers in heart failure is thus not sent to a calcium-channel-blocker
profile because it looks like the trials in its examples: it has to be about calcium channel
blockers first. Before the profile has a
background the gate stays at one half, where the two parts count alike (plain CombSUM).

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

COMPONENTS = ("interest", "example", "lexical")
#: What the item is about (the gate's input), and how well it fits the examples (what the gate lets through).
TOPICAL = ("interest", "lexical")
FIT = ("example",)

#: Weights of the standardised components (dense and lexical evidence count alike).
WEIGHTS = {"interest": 1.0, "example": 1.0, "lexical": 1.0}

#: Background statistics assumed before any item has been seen (measured on the dev corpus).
PRIOR = {"interest": (0.10, 0.08), "example": (0.15, 0.08), "lexical": (0.5, 1.0)}

#: Share of background items a profile's cut lets through; the cut's floor; the cut before any
#: background exists (the floor and that cut: 1.6 and 2 z per component, as they were when the
#: fused z summed five); the logistic slope around the cut.
DELIVERY_RATE = 0.004
Z_FLOOR = 4.8
Z_MID = 6.0
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

    def z(self, name: str, value: float) -> float:
        mean, std = self.stats_of(name)
        return (value - mean) / max(std, 1e-6)

    def gate_at(self, topical: float) -> float:
        """How much of the fit part counts (0 to 1) for an item of this topical z."""
        if self.gate is None:
            return 0.5
        x = -GATE_SLOPE * (topical - self.gate[0]) / max(self.gate[1], 1e-6)
        return 0.0 if x > 700 else 1.0 / (1.0 + math.exp(x))

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


def part_z(components: Mapping[str, float | None], calibration: Calibration, part: Sequence[str]) -> float:
    """The weighted z of a part's components present (TOPICAL: the gate's input; FIT)."""
    return sum(WEIGHTS[k] * calibration.z(k, v) for k in part if (v := components.get(k)) is not None)


def fuse(components: Mapping[str, float | None], calibration: Calibration) -> float:
    """The topical part plus the gated fit part of the standardised components; missing ones (no
    examples, say) are left out and the sum is rescaled so that profiles with fewer parts are not
    penalised."""
    weight = sum(WEIGHTS[k] for k in COMPONENTS if components.get(k) is not None)
    if weight == 0:
        return float("-inf")
    topical = part_z(components, calibration, TOPICAL)
    total = topical + FIT_WEIGHT * calibration.gate_at(topical) * part_z(components, calibration, FIT)
    return total * sum(WEIGHTS.values()) / weight


def example_score(cosines: np.ndarray | Sequence[float]) -> float | np.ndarray:
    """The mean of the cosines to the example papers, along the last axis."""
    out = np.asarray(cosines, dtype=np.float64).mean(axis=-1)
    return float(out) if out.ndim == 0 else out


def calibrated_score(z: float, cut: float = Z_MID) -> float:
    """The fused z as a score in [0, 1]; 0.5 at the profile's cut."""
    if z == float("-inf"):
        return 0.0
    x = -Z_SLOPE * (z - cut)
    return 0.0 if x > 700 else 1.0 / (1.0 + math.exp(x))
