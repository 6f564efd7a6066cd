"""Document expansion: an item's BM25 vector mixed with its nearest recent items' (neighbours.py)."""

from __future__ import annotations

import numpy as np

from services.classify import lexical
from services.classify.neighbours import (
    MIN_POOL, NEIGHBOURS, SHARE, Pool, expand, expand_all, nearest, within,
)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_expand_keeps_half_of_the_item_and_half_of_its_neighbours_mean():
    own = {1: 2.0, 2: 1.0}
    out = expand(own, [{2: 4.0, 3: 2.0}, {3: 6.0}])
    assert out == {1: (1 - SHARE) * 2.0, 2: (1 - SHARE) * 1.0 + SHARE * 4.0 / 2, 3: SHARE * (2.0 + 6.0) / 2}
    assert expand(own, []) == own


def test_nearest_finds_the_closest_pool_items_and_never_the_item_itself():
    rng = np.random.default_rng(3)
    pool_dense = unit(rng.standard_normal((100, 16)))
    pool = Pool(pool_dense, [{n: 1.0} for n in range(100)], [f"i{n}" for n in range(100)])
    query = unit(pool_dense[7:8] + 0.01 * rng.standard_normal((1, 16)))
    [rows] = nearest(pool, query, k=5)
    assert set(rows) == set(np.argsort(-(pool_dense @ query[0]))[:5]) and 7 in rows
    [rows] = nearest(pool, query, ["i7"], k=5)  # the same item seen again: its stored copy is left out
    assert 7 not in rows and len(rows) == 5


def test_an_item_takes_the_words_of_its_neighbours_but_not_of_far_items():
    rng = np.random.default_rng(5)
    topic_a, topic_b = rng.standard_normal(16), rng.standard_normal(16)
    noise = 0.2 * rng.standard_normal((80, 16))
    dense = unit(np.vstack([topic_a + noise[:40], topic_b + noise[40:]]))
    a, b = lexical.term_id("amlodipine"), lexical.term_id("asthma")
    pool = Pool(dense, [{a: 3.0}] * 40 + [{b: 3.0}] * 40, [f"i{n}" for n in range(80)])
    [expanded] = expand_all(pool, unit(topic_a[None, :]), [{lexical.term_id("hypertension"): 2.0}])
    assert abs(expanded[a] - SHARE * 3.0) < 1e-9 and b not in expanded  # all its NEIGHBOURS are about topic a
    assert NEIGHBOURS <= 40


def test_below_the_minimum_pool_an_item_keeps_its_own_words():
    pool = Pool(unit(np.ones((MIN_POOL - 1, 4))), [{9: 1.0}] * (MIN_POOL - 1), [f"i{n}" for n in range(MIN_POOL - 1)])
    assert expand_all(pool, unit(np.ones((1, 4))), [{1: 2.0}]) == [{1: 2.0}]


def test_the_background_is_expanded_each_item_from_the_others():
    rng = np.random.default_rng(9)
    dense = unit(rng.standard_normal((60, 8)))
    pool = Pool(dense, [{n: 1.0} for n in range(60)])  # no ids: rows stand for them
    for n, vector in enumerate(within(pool)):
        assert vector[n] == 1 - SHARE  # its own word, at its own share only: it is not its own neighbour
        assert len(vector) == 1 + NEIGHBOURS
