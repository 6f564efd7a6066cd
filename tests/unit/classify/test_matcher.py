"""The matcher's reasons: the closest part of each accepted (model, item) cell, found for all cells at once."""

from __future__ import annotations

import numpy as np

from services.classify.fusion import Entries
from services.classify.matcher import _closest


def _plain(owner: list[int], part: list[int], part_cos: np.ndarray, rows, cols):
    out = {}
    for n, (r, c) in enumerate(zip(rows, cols)):
        mine = [p for o, p in zip(owner, part) if o == r]
        if mine:
            best = max(mine, key=lambda p: (part_cos[p, c], -mine.index(p)))  # the first of equals
            out[n] = (best, part_cos[best, c])
    return out


def test_the_closest_part_of_every_cell_is_the_one_a_plain_loop_finds():
    rng = np.random.default_rng(7)
    models, parts, items = 40, 30, 6
    owner, part = [], []
    for m in range(models):
        k = int(rng.integers(0, 4))  # some models have no part in this role
        owner += [m] * k
        part += rng.choice(parts, size=k, replace=False).tolist()
    part_cos = np.round(rng.uniform(-1, 1, size=(parts, items)), 1)  # rounded: ties happen
    entries = Entries.build(models, owner, part)
    rows = rng.integers(0, models, size=120)
    cols = rng.integers(0, items, size=120)

    cells, best, cos = _closest(entries, part_cos, rows, cols)

    want = _plain(owner, part, part_cos, rows, cols)
    assert cells.tolist() == sorted(want)
    assert [(int(p), float(c)) for p, c in zip(best, cos)] == [(want[n][0], float(want[n][1])) for n in sorted(want)]


def test_no_cells_or_no_parts_give_nothing():
    entries = Entries.build(3, [], [])
    cells, best, cos = _closest(entries, np.zeros((0, 2)), np.array([0, 2]), np.array([1, 0]))
    assert len(cells) == len(best) == len(cos) == 0
