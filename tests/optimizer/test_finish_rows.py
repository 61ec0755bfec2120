"""The decomposition's finishing MILPs (optimizer.decompose.Decomposition, optimizer.finish) on
catalogues built so that the answer is known:

- a row met only by one SKU's dear candidate, where the cheap one misses it by less than HiGHS's
  absolute feasibility tolerance (1e-6): the plan must take the dear one. A service row reads in
  units of the aggregate level, one SKU's share of which is about 1 / SKUs, so on a large catalogue
  that tolerance is several SKUs' worth of service; the finishing model states each row in units of
  its largest coefficient;
- SKUs whose second candidate costs a millionth more than the first at every price: not tied, so
  not in the finishing MILP. Rounding is relative to one candidate's cost, not to the catalogue's:
  a billionth of the whole bound grows with the SKUs and counted such near-twins as tied."""

from __future__ import annotations

import numpy as np

from optimizer import solver as hs
from optimizer.decompose import Decomposition
from optimizer.problem import ParamRows

OPTIONS = hs.SolverOptions(time_limit=60.0, mip_gap=1e-4)


def one_row(cost, group, coef, rhs=0.0) -> Decomposition:
    n_groups = int(group.max()) + 1
    prow = ParamRows(["service.target"], ["service"], np.array([coef], dtype=float), np.zeros((1, len(cost))),
                     np.array([rhs]), False)
    return Decomposition(np.asarray(cost, dtype=float), np.asarray(group), n_groups, prow, OPTIONS)


def test_a_row_missed_by_less_than_the_solvers_tolerance_is_still_missed():
    n = 20000
    # SKU 0: a cheap candidate 5e-7 short of the row, a dear one (+100) that meets it; the others
    # have one candidate each, which the row does not read.
    cost = np.r_[10.0, 110.0, np.ones(n - 1)]
    group = np.r_[0, 0, np.arange(1, n)]
    coef = np.r_[-5e-7, 1e-3, np.zeros(n - 1)]
    sol = one_row(cost, group, coef).solve(None)
    assert sol.choice[0] == 1  # the dear candidate: the only plan that meets the row
    assert sol.objective == float(cost[1] + cost[2:].sum())
    assert sol.objective >= sol.bound - 1e-9 * abs(sol.bound)  # no plan below the Lagrangian bound


def test_a_sku_whose_candidates_differ_by_a_millionth_is_not_tied():
    rng = np.random.default_rng(7)
    n = 20000
    base = 10.0 + rng.random(n)
    # Per SKU: a lean candidate, a twin costing a millionth of it more (same row use: never better,
    # at any price), and a generous one that the row needs in some SKUs.
    cost = np.column_stack([base, base * (1 + 1e-6), base + 1.0 + rng.random(n)]).ravel()
    coef = np.column_stack([np.full(n, -1.0), np.full(n, -1.0), np.full(n, 1.0)]).ravel() / n
    group = np.repeat(np.arange(n), 3)
    dec = one_row(cost, group, coef, rhs=-0.5)  # a quarter of the SKUs must take the generous one
    sol = dec.solve(None)
    assert sol.gap <= OPTIONS.mip_gap
    assert np.mean(sol.choice % 3 == 2) >= 0.25 - 1e-12
    assert not np.any(sol.choice % 3 == 1)  # the twin is never chosen
    # A twin's slack is ~1e-5; a billionth of the whole bound (~2e5 here) is 2e-4, which made it "tied"
    # and freed its SKU; one SKU's share of it (~1e-8) does not.
    assert len(dec.finish.var_of) < 0.05 * n
