"""Reference: the exchange curve on exact newsvendor tables (several SKUs, base stock, fill rate exact).
Raising the target never lowers logistics cost; each row meets its target; the cost-optimal row is the
unconstrained run; an unreachable target raises InfeasibleError with the best achievable level
(computed here by brute force); a two-SKU case small enough to enumerate gives the MILP's choice."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from optimizer import InfeasibleError, frontier, select
from optimizer.candidates import initial_candidates
from test_optimizer_newsvendor import exact_table, newsvendor_scenario


def table(n_skus=3, **extra):
    sc = newsvendor_scenario(4.0, 2, 1.0, 9.0, n_skus=n_skus, **extra)
    # different demand per SKU: rebuild with distinct means
    data = sc.model_dump(by_alias=True, exclude_none=True)
    for i, sku in enumerate(data["skus"]):
        sku["demand"] = {"dist": "poisson", "mean": 2.0 + 3.0 * i}
    sc = type(sc).model_validate(data)
    return sc, exact_table(sc, initial_candidates(sc))


def test_frontier_monotone_and_cost_optimal_row():
    sc, ev = table()
    levels = [0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99]
    curves = {}
    for method in ("milp", "decomposition"):
        fr = curves[method] = frontier(sc, ev, levels=levels, method=method)
        targets = fr[~fr["cost_optimal"]].sort_values("target")
        assert list(targets["target"]) == levels
        assert np.all(np.diff(targets["cost_logistics"].to_numpy()) >= -1e-9)
        assert np.all(targets["achieved"].to_numpy() >= targets["target"].to_numpy() - 1e-7)
        assert np.all(targets["implied_shortage_cost"].to_numpy() >= 0)
        assert list(fr.columns[:13]) == ["target", "achieved", "cost_total", "cost_logistics", "cost_carrying",
                                         "cost_ordering", "cost_order_processing", "cost_transport",
                                         "cost_warehousing", "cost_shortage", "marginal_cost",
                                         "implied_shortage_cost", "cost_optimal"]
        opt = fr[fr["cost_optimal"]]
        assert len(opt) == 1
        plan = select(sc, ev, method=method)  # the scenario has no target: cost-optimal
        assert opt["cost_total"].iloc[0] == pytest.approx(plan.cost_total, rel=1e-12)
        assert opt["achieved"].iloc[0] == pytest.approx(plan.achieved, rel=1e-12)
        # brute force: nothing beats the cost-optimal row's total cost
        groups = [g["cost_total"].to_numpy() for _, g in ev.groupby("sku")]
        assert opt["cost_total"].iloc[0] == pytest.approx(sum(g.min() for g in groups), rel=1e-12)
    # the warm-started decomposition sweep and the monolithic MILP give the same curve
    assert np.allclose(curves["milp"]["cost_logistics"], curves["decomposition"]["cost_logistics"], rtol=1e-9)


def _pairs(ev):
    """Every plan of a two-SKU table as index pairs (vectorised enumeration)."""
    a, b = [g.index.to_numpy() for _, g in ev.groupby("sku", sort=False)]
    return np.repeat(a, len(b)), np.tile(b, len(a))


def test_unreachable_target_reports_best_level():
    sc, ev = table(2)
    ev = ev[ev["fill_rate"] < 0.97].reset_index(drop=True)  # so that the best level is below 1
    i, j = _pairs(ev)
    d, m = ev["demand_per_period"].to_numpy(), ev["fill_rate"].to_numpy()
    best = float(np.max((d[i] * m[i] + d[j] * m[j]) / (d[i] + d[j])))
    for method in ("milp", "decomposition"):
        with pytest.raises(InfeasibleError) as err:
            select(sc, ev, target=best + 1e-4, method=method)
        assert err.value.rule == "service.target"
        assert err.value.best_achievable == pytest.approx(best, abs=1e-9)
    fr = frontier(sc, ev, levels=[0.9, best + 1e-4])
    assert len(fr) == 2 and fr.attrs["infeasible"][0][1] == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("target,budget", [(0.93, None), (0.96, 60.0), (0.9, 35.0)])
def test_two_skus_milp_equals_enumeration(target, budget):
    extra = {"budget": {"inventory_value": budget}} if budget else {}
    sc, ev = table(2, **extra)
    i, j = _pairs(ev)
    d, m = ev["demand_per_period"].to_numpy(), ev["fill_rate"].to_numpy()
    logistics = (ev["cost_total"] - ev["cost_shortage"]).to_numpy()
    value = ev["inventory_value"].to_numpy()
    ok = d[i] * m[i] + d[j] * m[j] >= target * (d[i] + d[j])
    if budget:
        ok &= value[i] + value[j] <= budget
    assert ok.any()
    cost = np.where(ok, logistics[i] + logistics[j], np.inf)
    k = int(np.argmin(cost))
    for method in ("milp", "decomposition"):
        plan = select(sc, ev, target=target, method=method)
        assert plan.objective == pytest.approx(cost[k], rel=1e-9)
        assert list(plan.choice["S"]) == [ev.loc[i[k], "S"], ev.loc[j[k], "S"]]
