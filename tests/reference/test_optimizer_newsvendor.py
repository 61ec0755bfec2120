"""Reference: base stock / newsvendor with backorders. With zero order cost, holding h and backorder
cost p per unit per period, the optimal base stock is the p/(p+h) quantile of demand over lead time +
review period. The optimizer, given the initial grid evaluated exactly, must choose exactly that S;
given the same grid simulated (SimPy/kernel engine), a plan whose exact cost is within 1 % of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer import select
from optimizer.candidates import initial_candidates
from optimizer_exact import base_stock_backorder, critical_fractile_S, evaluation_row
from scenarios.schema import Scenario


def newsvendor_scenario(mu: float, L: int, h: float, p: float, n_skus: int = 1, **extra) -> Scenario:
    data = {"format": 1, "name": "newsvendor", "horizon": {"periods": 2000, "warmup": 50},
            "replications": 4,
            "costs": {"holding_per_unit_period": h, "backorder_per_unit_period": p, "order_cost": 0.0},
            "transport": [{"name": "truck", "lead_time": L}],
            "policies": {"families": ["base_stock"], "review_periods": [1]},
            "solver": {"mip_gap": 0.0},
            "skus": [{"id": f"n{i}", "unit_cost": 10.0, "price": 20.0, "demand": {"dist": "poisson", "mean": mu}}
                     for i in range(n_skus)]}
    data.update(extra)
    return Scenario.model_validate(data)


def exact_table(sc: Scenario, cands: pd.DataFrame) -> pd.DataFrame:
    """Exact evaluations of base-stock candidates (one transport mode, lead time fixed)."""
    h, p = sc.costs.holding_per_unit_period, sc.costs.backorder_per_unit_period
    L = int(sc.transport[0].lead_time.value)
    rows = []
    for r in cands.itertuples(index=False):
        mu = sc.skus[sc.sku_index(r.sku)].demand.mean
        f = base_stock_backorder(mu, L, h, p, int(r.S))
        rows.append(evaluation_row(r.sku, r.family, mu, S=r.S, R=r.R, mode=r.mode, carrying=f["carrying"],
                                   shortage=f["shortage"], fill_rate=f["fill_rate"], on_hand=f["on_hand"]))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("mu,L,h,p", [(5.0, 2, 1.0, 9.0), (12.0, 0, 1.0, 4.0), (3.0, 4, 0.5, 19.5), (20.0, 1, 2.0, 3.0)])
def test_plan_S_is_the_critical_fractile_S(mu, L, h, p):
    sc = newsvendor_scenario(mu, L, h, p)
    cands = initial_candidates(sc)
    S_star = critical_fractile_S(mu, L, h, p)
    assert S_star in set(cands["S"].astype(int)), "the grid must hold the critical-fractile S"
    ev = exact_table(sc, cands)
    # brute-force check of the theory on this grid: the quantile is the cheapest S
    assert int(ev.loc[ev["cost_total"].idxmin(), "S"]) == S_star
    for method in ("milp", "decomposition"):
        plan = select(sc, ev, method=method)
        assert int(plan.choice["S"].iloc[0]) == S_star
        assert plan.objective == pytest.approx(ev["cost_total"].min(), rel=1e-12)


def test_end_to_end_with_simulation_engine():
    from simulation import evaluate

    mu, L, h, p = 6.0, 2, 1.0, 9.0
    sc = newsvendor_scenario(mu, L, h, p)
    ev = evaluate(sc, initial_candidates(sc), engine="kernel")
    plan = select(sc, ev)
    S_plan, S_star = int(plan.choice["S"].iloc[0]), critical_fractile_S(mu, L, h, p)
    exact = {S: base_stock_backorder(mu, L, h, p, S) for S in (S_plan, S_star)}
    cost = {S: f["carrying"] + f["shortage"] for S, f in exact.items()}
    assert abs(S_plan - S_star) <= 1
    assert cost[S_plan] <= 1.01 * cost[S_star]
