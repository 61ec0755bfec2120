"""The decomposition's per-SKU pricing (optimizer.decompose.Pricing.argmin, one compiled pass)
against its definition in numpy: each SKU's minimum reduced cost (np.minimum.reduceat) and the
first candidate reaching it; a SKU with a NaN reduced cost has minimum NaN and position n. The
reduced costs themselves (optimizer.decompose.reduced_cost, one thread) against numpy's BLAS
product cost - lam @ A."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.decompose import Pricing, reduced_cost


def definition(pricing: Pricing, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mins = np.minimum.reduceat(r, pricing.starts)
    first = np.where(r <= mins[pricing.gs], np.arange(pricing.n), pricing.n)
    return np.minimum.reduceat(first, pricing.starts), mins


@pytest.mark.parametrize("seed", range(10))
def test_each_skus_first_cheapest_candidate_as_numpy_defines_it(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    group = np.unique(rng.integers(0, int(rng.integers(1, 40)), n), return_inverse=True)[1]  # every SKU has rows
    pricing = Pricing(rng.random(n), group, int(group.max()) + 1, np.zeros((1, n)))
    r = rng.integers(-2, 3, n).astype(float)  # small integers: many ties
    r[rng.random(n) < 0.03] = np.nan
    sel, mins = pricing.argmin(r)
    want_sel, want_mins = definition(pricing, r)
    assert np.array_equal(sel, want_sel)
    assert np.array_equal(mins, want_mins, equal_nan=True)


@pytest.mark.parametrize("K", [0, 1, 2, 3, 5])
def test_reduced_costs_are_cost_less_the_priced_rows_as_numpy_computes_them(K):
    rng = np.random.default_rng(K)
    n = 1000
    cost, A = rng.normal(size=n) * 100, rng.normal(size=(K, n)) * rng.choice([1e-3, 1.0, 1e4], size=(K, 1))
    lam = rng.random(K) * 10
    got = reduced_cost(cost, A, lam)
    want = cost - lam @ A if K else cost
    if K <= 1:  # one product per candidate: exactly the same number
        assert np.array_equal(got, want)
    else:  # the sum of K products may be rounded in another order
        assert np.allclose(got, want, rtol=1e-13, atol=1e-9)
    assert got is not cost  # the caller may change it
