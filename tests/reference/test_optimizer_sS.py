"""Reference: (s,S) with Poisson demand, backorders and a fixed order cost. The exact optimum comes
from the renewal formula (the quantity Zheng & Federgruen 1991 minimise), searched over a grid wide
enough to hold it. The optimizer starts from its analytic grid (EOQ lots, lead-time demand quantiles),
evaluated exactly, and refines around its choice until the gain is inside the noise (zero here); the
plan's exact expected cost must be within 1 % of the optimum."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import select
from optimizer.candidates import initial_candidates
from optimizer.refine import gain_within_noise, neighbours
from optimizer_exact import SsExact, evaluation_row
from scenarios.schema import Scenario


def sS_scenario(lam, L, h, p, K):
    return Scenario.model_validate({
        "format": 1, "name": "zf",
        "costs": {"holding_per_unit_period": h, "backorder_per_unit_period": p, "order_cost": K},
        "transport": [{"name": "truck", "lead_time": L}],
        "policies": {"families": ["sS"], "review_periods": [1]},
        "solver": {"mip_gap": 0.0},
        "skus": [{"id": "zf", "unit_cost": 10.0, "price": 20.0, "demand": {"dist": "poisson", "mean": lam}}]})


def exact_rows(model: SsExact, cands: pd.DataFrame, lam: float) -> pd.DataFrame:
    rows = []
    for r in cands.itertuples(index=False):
        f = model.figures(int(r.s), int(r.S))
        rows.append(evaluation_row(r.sku, "sS", lam, s=r.s, S=r.S, R=r.R, mode=r.mode, carrying=f["carrying"],
                                   ordering=f["ordering"], shortage=f["shortage"], fill_rate=f["fill_rate"],
                                   on_hand=f["on_hand"]))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("lam,L,h,p,K", [(10.0, 1, 1.0, 9.0, 64.0), (5.0, 0, 1.0, 19.0, 25.0), (3.0, 2, 0.5, 4.5, 40.0)])
def test_refined_plan_within_one_percent_of_zheng_federgruen(lam, L, h, p, K):
    sc = sS_scenario(lam, L, h, p, K)
    s_max, d_max = int(lam * (L + 1) * 2) + 10, int(6 * (2 * K * lam / h) ** 0.5) + 10
    model = SsExact(lam, L, h, p, K, y_min=-30, y_max=s_max + 3 * d_max)
    opt_cost, s_opt, S_opt = model.optimum(range(-10, s_max), d_max=d_max)
    assert -10 < s_opt < s_max - 1 and S_opt - s_opt < d_max, "the optimum must lie inside the searched grid"
    # the formula agrees with itself at the optimum (figures add up to the renewal cost)
    f = model.figures(s_opt, S_opt)
    assert f["carrying"] + f["shortage"] + f["ordering"] == pytest.approx(opt_cost, rel=1e-9)
    ev = exact_rows(model, initial_candidates(sc), lam)
    plan = select(sc, ev)
    for _ in range(30):
        new = neighbours(sc, ev, plan)
        if new.empty:
            break
        ev = pd.concat([ev, exact_rows(model, new, lam)], ignore_index=True)
        previous, plan = plan, select(sc, ev)
        if gain_within_noise(previous, plan):
            break
    chosen = plan.choice.iloc[0]
    exact_cost = model.cost(int(chosen["s"]), int(chosen["S"]))
    assert exact_cost == pytest.approx(plan.objective, rel=1e-9)
    assert exact_cost <= 1.01 * opt_cost
