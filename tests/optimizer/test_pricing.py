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


@pytest.mark.parametrize("K", [1, 2, 3])
def test_reduced_costs_at_a_level_are_those_of_the_rows_formed_at_that_level(K):
    """With a slope, the rows at level t are never formed whole, and the reduced costs are the same
    numbers, to the last bit, as those of A + t * slope formed first in numpy."""
    rng = np.random.default_rng(10 + K)
    n = 1000
    cost, A, slope = rng.normal(size=n) * 100, rng.normal(size=(K, n)), rng.normal(size=(K, n)) * 1e3
    lam = rng.random(K) * 10
    for t in (0.0, 0.37, 0.95, 1.0):
        assert np.array_equal(reduced_cost(cost, A, lam, slope, t), reduced_cost(cost, A + t * slope, lam))


@pytest.mark.parametrize("seed", range(5))
def test_candidates_in_sku_order_are_priced_in_place_and_map_back_as_sorted_copies_do(seed):
    """Candidates given in SKU order are priced without sorted copies; any other order gives the same
    candidates through `original` (and `sorted_positions` is its inverse)."""
    rng = np.random.default_rng(seed)
    n, K = 300, 2
    group = np.sort(rng.integers(0, 25, n))
    group = np.unique(group, return_inverse=True)[1]
    cost, A = rng.random(n), np.ascontiguousarray(rng.random((K, n)))
    in_order = Pricing(cost, group, int(group.max()) + 1, A)
    assert in_order.order is None and in_order.cost is cost and in_order.A is A and in_order.gs is group
    perm = rng.permutation(n)
    shuffled = Pricing(cost[perm], group[perm], int(group.max()) + 1, A[:, perm])
    r = rng.random(n)  # reduced costs of the candidates; no ties: each SKU has one cheapest
    chosen = in_order.original(in_order.argmin(r)[0])
    r_sorted = r[perm][shuffled.order]  # argmin reads reduced costs in its sorted order
    assert np.array_equal(perm[shuffled.original(shuffled.argmin(r_sorted)[0])], chosen)
    for pricing in (in_order, shuffled):
        assert np.array_equal(pricing.sorted_positions(pricing.original(np.arange(n))), np.arange(n))


def test_a_selection_from_rows_in_any_order_chooses_the_same_rows():
    """The decomposition takes its candidates in SKU order (Prepared.by_sku): evaluation rows in SKU
    order and shuffled give the same plan, equal to the monolithic MILP's."""
    import optimizer
    import synthetic as syn

    sc = syn.scenario(50, service={"floors": {"B": 0.9}}, budget={"inventory_value": 2.6e4},
                      solver={"mip_gap": 1e-9})
    ev = syn.evaluations(sc, 8, seed=3)
    shuffled = ev.sample(frac=1.0, random_state=4).reset_index(drop=True)
    plans = [optimizer.select(sc, table, target=0.93, method=method)
             for table in (ev, shuffled) for method in ("decomposition", "milp")]
    keys = [sorted(map(tuple, p.choice[["sku", "family", "mode", "s", "S"]].astype(str).to_numpy())) for p in plans]
    assert all(k == keys[0] for k in keys)
    assert plans[0].objective == pytest.approx(plans[3].objective, rel=1e-9)


def test_the_bundle_keeps_each_plan_as_small_offsets_and_gives_back_its_positions():
    """The decomposition's bundle (every plan priced in a sweep) keeps a plan as one byte per SKU
    when no SKU has more than 255 candidates, and gives back the same sorted positions, position n
    (a SKU whose reduced costs are NaN) included; a plan whose offsets a byte cannot hold is kept
    as positions."""
    import optimizer
    import synthetic as syn
    from optimizer.select import Selector

    sc = syn.scenario(30, solver={"mip_gap": 1e-9})
    ev = syn.evaluations(sc, 6, seed=2)
    selector = Selector(sc, ev, cost_optimal=False, method="decomposition")
    plan = selector.solve(0.93)
    engine = selector.engine()
    assert engine.plans and all(packed.dtype == np.uint8 for packed in engine.plans)
    n_skus = len(engine.pr.starts)
    for p in range(len(engine.plans)):
        positions = engine._plan(p)
        assert np.array_equal(engine.pr.gs[positions], np.arange(n_skus))  # one candidate of each SKU
        assert np.array_equal(engine._pack(positions), engine.plans[p])
    for last in (engine.pr.n, engine.pr.starts[-1] + 256):  # position n (NaN), an offset past a byte
        odd = np.array(engine.pr.starts)
        odd[-1] = last
        engine.plans.append(engine._pack(odd))
        assert np.array_equal(engine._plan(len(engine.plans) - 1), odd)
    assert engine.plans[-1].dtype == np.int64
    assert plan.objective == pytest.approx(optimizer.select(sc, ev, target=0.93, method="milp").objective, rel=1e-9)
