"""Pruning against the definition, by brute force: j is dropped exactly when some k of its SKU is at
least as good in cost and every benefit and strictly better somewhere, or identical with a smaller
index. Random tables with many ties (small integer values), 1 to 4 benefit rows, unsorted groups,
and values where a float sum would hide a difference (1e20 + 1)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.prune import non_dominated


def brute_force(group, cost, ben):
    n = len(cost)
    keep = np.ones(n, dtype=bool)
    for j in range(n):
        for k in range(n):
            if k == j or group[k] != group[j]:
                continue
            at_least = cost[k] <= cost[j] and np.all(ben[:, k] >= ben[:, j])
            better = cost[k] < cost[j] or np.any(ben[:, k] > ben[:, j])
            if at_least and (better or k < j):
                keep[j] = False
                break
    return keep


@pytest.mark.parametrize("rows", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", range(6))
def test_pruning_keeps_exactly_the_non_dominated(rows, seed):
    rng = np.random.default_rng(100 * rows + seed)
    n = int(rng.integers(1, 120))
    group = rng.integers(0, 6, n)
    cost = rng.integers(0, 5, n).astype(float)
    ben = rng.integers(0, 3 + rows, (rows, n)).astype(float)
    assert np.array_equal(non_dominated(group, cost, ben), brute_force(group, cost, ben))


def test_continuous_values_and_one_big_sku():
    rng = np.random.default_rng(7)
    n = 400
    group = np.zeros(n, dtype=int)
    cost = rng.random(n)
    ben = np.vstack([rng.random(n) - cost * 0.5, -rng.random(n)])
    keep = non_dominated(group, cost, ben)
    assert np.array_equal(keep, brute_force(group, cost, ben))
    assert 0 < keep.sum() < n


def test_a_difference_a_float_sum_would_hide_still_counts():
    # Same cost; candidate 1 is better than 0 in the second benefit by 1 while the first is 1e20:
    # 1e20 + 1 == 1e20 in floating point, so an order by the sum of benefits would not see it.
    group = np.array([0, 0])
    cost = np.array([1.0, 1.0])
    ben = np.array([[1e20, 1e20], [0.0, 1.0]])
    assert non_dominated(group, cost, ben).tolist() == [False, True]


def test_nan_never_dominates_and_is_never_dominated():
    group = np.array([0, 0, 0])
    cost = np.array([1.0, 2.0, np.nan])
    ben = np.array([[5.0, np.nan, 0.0]])
    assert non_dominated(group, cost, ben).tolist() == [True, True, True]


@pytest.mark.parametrize("seed", range(8))
def test_the_sort_breaks_only_ties_by_benefits_and_matches_the_full_lexsort(seed):
    """_skyline_order compares benefits only where SKU and cost tie: the same order as np.lexsort
    over every key (SKU, cost, each benefit largest first, index), NaN and -0.0 costs included."""
    from optimizer.prune import _skyline_order

    rng = np.random.default_rng(seed)
    n, rows = int(rng.integers(1, 500)), int(rng.integers(1, 5))
    group = rng.integers(0, 12, n)
    cost = rng.integers(0, 4, n).astype(float)
    cost[rng.random(n) < 0.1] = np.nan
    cost[rng.random(n) < 0.1] = -0.0
    ben = rng.integers(0, 3, (rows, n)).astype(float)
    ben[rng.random((rows, n)) < 0.05] = np.nan
    full = np.lexsort([np.arange(n)] + [-ben[r] for r in range(rows - 1, -1, -1)] + [cost, group])
    assert np.array_equal(_skyline_order(group, cost, ben), full)
