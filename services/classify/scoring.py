"""What decides how an item scores against a profile: its components, their weights, and the
profile's calibration (pure; fusion.py computes it for every profile at once).

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
