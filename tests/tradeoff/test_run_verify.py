"""Out-of-sample verification: fresh streams, figures that agree with theory, rules re-checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulation
from scenarios.schema import Scenario
from test_run import DOCS_PLAN_COLUMNS  # docs/outputs.md's plan.csv columns, written out in tests/tradeoff/test_run.py
from tradeoff.verify import (
    PLAN_COLUMNS,
    aggregate_metrics,
    check_rules,
    verification_replications,
    verification_seed,
    verify,
)


LAMBDA, LEAD, H, P = 4.0, 1, 1.0, 4.0


def base_stock_scenario(periods=3000, replications=4) -> Scenario:
    """One SKU, Poisson demand, fixed lead time, periodic base stock with backorders: end-of-period net
    inventory is S minus demand over lead time + 1 periods (the textbook newsvendor setting)."""
    return Scenario.model_validate({
        "format": 1, "name": "verify-theory", "seed": 11,
        "horizon": {"periods": periods, "warmup": 20},
        "replications": replications,
        "costs": {"holding_per_unit_period": H, "in_transit_rate": 0.0, "backorder_per_unit_period": P},
        "transport": [{"name": "truck", "lead_time": LEAD}],
        "policies": {"families": ["base_stock"], "review_periods": [1]},
        "skus": [{"id": "X", "unit_cost": 10, "price": 15, "demand": {"dist": "poisson", "mean": LAMBDA}}],
    })


def policies(S_values):
    return pd.DataFrame({"sku": "X", "family": "base_stock", "mode": "truck", "s": np.nan, "S": [float(v) for v in S_values],
                         "Q": np.nan, "R": 1.0, "cap": np.nan})


def evaluator(scenario):
    def evaluate(p, replications, seed):
        return simulation.evaluate(scenario, p, engine="kernel", replications=replications, seed=seed)
    return evaluate


def test_verification_seed_is_documented_offset():
    scenario = base_stock_scenario()
    assert verification_seed(scenario) == 11 + 1_000_003
    assert verification_replications(scenario, 16) == 16
    assert verification_replications(scenario, 2) == scenario.replications


def test_plan_figures_are_fresh_simulation_and_match_theory():
    scenario = base_stock_scenario()
    evaluate = evaluator(scenario)
    choice = evaluate(policies([10]), scenario.replications, scenario.seed).assign(**{"class": "A"})
    plan, checks = verify(scenario, choice, evaluate, replications=scenario.replications, target=None)

    assert list(plan.columns[: len(DOCS_PLAN_COLUMNS)]) == DOCS_PLAN_COLUMNS == PLAN_COLUMNS
    assert checks == []
    row = plan.iloc[0]
    # in-sample figures kept beside the fresh ones, and the two differ (other streams)
    assert row["cost_total_in_sample"] == choice.loc[0, "cost_total"]
    assert row["cost_total"] != choice.loc[0, "cost_total"]
    # theory: end-of-period net inventory = S - D, D ~ Poisson(lambda (L+1))
    d = stats.poisson(LAMBDA * (LEAD + 1))
    k = np.arange(0, 200)
    on_hand = float(((10 - k).clip(min=0) * d.pmf(k)).sum())
    backlog = float(((k - 10).clip(min=0) * d.pmf(k)).sum())
    for figure, sim in ((on_hand, row["avg_on_hand"]), (H * on_hand + P * backlog, row["cost_total"])):
        assert sim == pytest.approx(figure, rel=0.03)
    assert abs(row["cost_total"] - (H * on_hand + P * backlog)) < 3 * row["cost_total_ci"] + 1e-3


def theory_cost(S):
    d = stats.poisson(LAMBDA * (LEAD + 1))
    k = np.arange(0, 200)
    return float(H * ((S - k).clip(min=0) * d.pmf(k)).sum() + P * ((k - S).clip(min=0) * d.pmf(k)).sum())


def test_selection_bias_is_removed_out_of_sample():
    """Many candidates with the SAME policy, simulated on different streams: the cheapest in-sample
    looks better than theory; re-simulated it does not (the reason for verification)."""
    scenario = base_stock_scenario(periods=200, replications=2)
    evaluate = evaluator(scenario)
    in_sample = pd.concat([evaluate(policies([10]), 2, seed) for seed in range(40)], ignore_index=True)
    best = in_sample.loc[[in_sample["cost_total"].idxmin()]].reset_index(drop=True).assign(**{"class": "A"})
    plan, _ = verify(scenario, best, evaluate, replications=8, target=None)
    truth = theory_cost(10)
    spread = in_sample["cost_total"].std()
    assert best.loc[0, "cost_total"] < truth - spread  # the minimum of 40 draws is biased low
    assert abs(plan.loc[0, "cost_total"] - truth) < 3 * plan.loc[0, "cost_total_ci"]
    assert plan.loc[0, "replications"] == 8


def _hand_plan():
    return pd.DataFrame({
        "sku": ["a", "b", "c"], "class": ["A", "A", "B"],
        "fill_rate": [0.99, 0.90, 0.80], "demand_per_period": [10.0, 10.0, 5.0],
        **{m: [0.0, 0.0, 0.0] for m in ("cycle_service_level", "order_fill_rate", "stockout_frequency", "order_cycle_mean",
                                        "order_cycle_sd", "on_time_rate", "backorder_rate", "substitution_rate",
                                        "lost_sales_rate", "customers_lost", "avg_on_hand", "avg_in_transit")},
    })


def test_rules_missed_out_of_sample_are_flagged():
    base = base_stock_scenario()
    scenario = base.model_copy(update={"service": base.service.model_copy(
        update={"floors": {"A": 0.95, "B": 0.75}, "sku_floor": 0.85})})
    checks = {c.rule: c for c in check_rules(scenario, _hand_plan(), target=0.93)}
    # aggregate: (0.99*10 + 0.90*10 + 0.80*5) / 25 = 0.916 < 0.93
    assert checks["service.target"].achieved == pytest.approx(0.916)
    assert not checks["service.target"].met
    assert checks["service.floors.A"].achieved == pytest.approx(0.945) and not checks["service.floors.A"].met
    assert checks["service.floors.B"].met
    assert [r for r, c in checks.items() if r.startswith("service.sku_floor") and not c.met] == ["service.sku_floor[c]"]
    assert checks["service.sku_floor[a]"].met and checks["service.sku_floor[b]"].met


def test_aggregate_metrics_weights_rates_by_demand_and_sums_units():
    plan = _hand_plan().assign(avg_on_hand=[1.0, 2.0, 3.0])
    agg = aggregate_metrics(plan)
    assert agg["fill_rate"] == pytest.approx(0.916)
    assert agg["avg_on_hand"] == pytest.approx(6.0)


def test_limits_exceeded_out_of_sample_are_flagged():
    base = base_stock_scenario()
    scenario = Scenario.model_validate({
        **base.model_dump(by_alias=True, exclude_none=True),
        "budget": {"inventory_value": 100.0},
        "costs": {**base.costs.model_dump(exclude_none=True), "warehousing": {"capacity_units": 10.0}},
        "transport": [{"name": "truck", "lead_time": 1, "capacity_per_period": 0.5},
                      {"name": "air", "lead_time": 0, "capacity_per_period": 0.2}],
    })
    plan = _hand_plan().assign(mode=["truck", "air", "air"], inventory_value=[40.0, 30.0, 20.0],
                               avg_on_hand=[4.0, 3.0, 3.5], vehicles_per_period=[0.5, 0.1, 0.15])
    checks = {c.rule: c for c in check_rules(scenario, plan, target=None)}
    assert checks["budget.inventory_value"].met and checks["budget.inventory_value"].achieved == 90.0
    assert not checks["costs.warehousing.capacity_units"].met  # 10.5 units on average > 10
    assert checks["transport[0].capacity_per_period"].met  # 0.5 vehicles per period, exactly the cap
    assert not checks["transport[1].capacity_per_period"].met
    assert checks["transport[1].capacity_per_period"].achieved == pytest.approx(0.25)
    assert {c.kind for c in checks.values()} == {"limit"}
