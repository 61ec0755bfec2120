"""Customer-tier rules in the selection (docs/tiers.md): tier floors and the exchange curve drawn for
one tier's level, against brute force over every combination of candidates (tiny instances)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import synthetic as syn
from optimizer import frontier, select

TIERS = {"allocation": "critical_level", "tiers": [{"name": "key", "share": 0.4}, {"name": "rest", "share": 0.6}]}


def with_tiers(ev, seed: int):
    """The synthetic table with per-tier demand and fill rates: the key tier served better the
    higher the candidate's (random) critical level, the rest worse, demand split 40/60."""
    rng = np.random.default_rng(seed)
    ev = ev.copy()
    lift = rng.random(len(ev)) * 0.5
    f = ev["fill_rate"].to_numpy()
    ev["critical_level"] = np.round(lift * 10)
    ev["t0_demand_per_period"] = 0.4 * ev["demand_per_period"]
    ev["t1_demand_per_period"] = 0.6 * ev["demand_per_period"]
    ev["t0_fill_rate"] = f + (1 - f) * lift
    ev["t1_fill_rate"] = (f - 0.4 * ev["t0_fill_rate"]) / 0.6
    return ev


def brute(ev, n_skus, ok, cost):
    """The least cost (column `cost`) over every choice of one row per SKU meeting ok(rows)."""
    groups = [np.flatnonzero(ev["sku"].to_numpy() == s) for s in ev["sku"].unique()][:n_skus]
    best = np.inf
    for pick in itertools.product(*groups):
        rows = ev.iloc[list(pick)]
        if ok(rows):
            best = min(best, float(rows[cost].sum()))
    return best


def tier_level(rows, k):
    d = rows[f"t{k}_demand_per_period"].to_numpy()
    return float((d * rows[f"t{k}_fill_rate"].to_numpy()).sum() / d.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_tier_floor_is_met_at_least_cost(seed):
    floor = 0.968
    sc = syn.scenario(3, customer_tiers={**TIERS, "tiers": [{"name": "key", "share": 0.4, "floor": floor},
                                                            {"name": "rest", "share": 0.6}]})
    ev = with_tiers(syn.evaluations(sc, 6, seed=seed), seed)
    plan = select(sc, ev, method="milp")
    best = brute(ev, 3, lambda r: tier_level(r, 0) >= floor - 1e-12, "cost_total")
    assert plan.objective == pytest.approx(best, rel=1e-6)
    assert tier_level(plan.choice, 0) >= floor - 1e-9
    # The floor binds here (the cost optimum without it serves the key tier less): a positive dual.
    free = select(syn.scenario(3, customer_tiers=TIERS), ev, method="milp")
    assert tier_level(free.choice, 0) < floor
    assert plan.duals["customer_tiers.tiers[0].floor"] > 0


@pytest.mark.parametrize("seed", [0, 3])
def test_the_exchange_curve_of_one_tier_is_brute_force_at_every_level(seed):
    levels = (0.85, 0.9, 0.95)
    sc = syn.scenario(3, customer_tiers=TIERS, service={"frontier": list(levels), "frontier_tier": "key"})
    ev = with_tiers(syn.evaluations(sc, 5, seed=seed), seed)
    ev["cost_logistics"] = ev["cost_total"] - ev["cost_shortage"]
    curve = frontier(sc, ev.drop(columns="cost_logistics"), method="milp")
    for level in levels:
        best = brute(ev, 3, lambda r, lv=level: tier_level(r, 0) >= lv - 1e-12, "cost_logistics")
        row = curve[curve["target"] == level]
        if not np.isfinite(best):
            assert row.empty
            continue
        assert float(row["cost_logistics"].iloc[0]) == pytest.approx(best, rel=1e-6)
        assert float(row["achieved"].iloc[0]) >= level - 1e-9  # the key tier's level, not the aggregate's
