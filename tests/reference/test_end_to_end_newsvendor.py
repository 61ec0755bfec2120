"""Reference: the whole `tradeoff.run` pipeline finds the newsvendor optimum.

Base stock reviewed every period, backorders, zero order and transport cost, Poisson demand, fixed
lead time L, holding h and backorder p per unit per period: the end-of-period net inventory is S
minus the demand of L + 1 periods, so the cost-optimal S is the smallest S with
P(D_{L+1} <= S) >= p / (p + h) (docs/domain.md, reference results). The plan's S must be exactly that,
for every SKU, and the plan's (out-of-sample) cost must agree with the exact expected cost.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scenarios.schema import Scenario
from tradeoff import run

H, P, LEAD = 1.0, 9.0, 2
MEANS = {"fast": 5.0, "slow": 2.0}


def exact_cost(S: int, mean: float) -> float:
    """h E[(S - D)^+] + p E[(D - S)^+] per period, D ~ Poisson(mean (L + 1))."""
    d = stats.poisson(mean * (LEAD + 1))
    k = np.arange(0, int(mean * (LEAD + 1) * 5) + 50)
    pmf = d.pmf(k)
    return float(H * ((S - k).clip(min=0) * pmf).sum() + P * ((k - S).clip(min=0) * pmf).sum())


def critical_fractile_S(mean: float) -> int:
    return int(stats.poisson(mean * (LEAD + 1)).ppf(P / (P + H)))


def scenario() -> Scenario:
    return Scenario.model_validate({
        "format": 1, "name": "newsvendor-end-to-end", "seed": 42,
        "horizon": {"periods": 2000, "warmup": 20}, "replications": 10,
        "costs": {"holding_per_unit_period": H, "in_transit_rate": 0.0, "backorder_per_unit_period": P,
                  "order_cost": 0.0},
        "customer_reaction": {"wait": 1.0},
        "transport": [{"name": "truck", "lead_time": LEAD}],
        "policies": {"families": ["base_stock"], "review_periods": [1]},
        "service": {"frontier": [0.9]},
        "skus": [{"id": sku, "unit_cost": 10, "price": 20, "demand": {"dist": "poisson", "mean": mean}}
                 for sku, mean in MEANS.items()],
    })


def test_plan_is_the_critical_fractile_base_stock():
    result = run(scenario())
    plan = result.plan.set_index("sku")
    for sku, mean in MEANS.items():
        best = critical_fractile_S(mean)
        # the test is only sharp if S* beats its neighbours by more than the simulation's noise
        assert exact_cost(best - 1, mean) - exact_cost(best, mean) > 0.1
        assert exact_cost(best + 1, mean) - exact_cost(best, mean) > 0.1
        assert plan.loc[sku, "family"] == "base_stock"
        assert plan.loc[sku, "S"] == best, sku
        assert abs(plan.loc[sku, "cost_total"] - exact_cost(best, mean)) < 3 * plan.loc[sku, "cost_total_ci"] + 0.02
    assert result.summary["solver"]["status"] == "optimal"
    assert result.summary["service"]["target"] is None
