"""What decides how an item scores against a profile: its components, their weights, and the
profile's calibration (pure; fusion.py computes it for every profile at once).

Components, each a similarity in its own scale: interest (the best cosine to an interest
statement), example (the mean cosine to the example papers) and lexical (BM25 of the item's
words, expanded from its nearest recent items, against the profile's words). Each is
standardised against the profile's own background (mean and spread over recent items), and the
z-scores are summed (CombSUM) in two parts: the topical part (interest and lexical: is the item
about what the subscriber said?) and the fit part (example: is it like their example papers?).
Fit counts through a gate on the topical part, a logistic step at the topical z that only the
top GATE_SHARE of the background reaches, so a trial that merely looks like the examples cannot
outrank items on the subject; with no background yet the gate stays at one half (plain CombSUM).

The fused z maps to a score in [0, 1] by a logistic curve centred on the profile's own cut, the
fused z that only DELIVERY_RATE of its background reaches (never below Z_FLOOR): 0.5 means "as
unusual for this profile as the top 0.4% of the stream", for a broad profile or a narrow one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
