"""Selection: the monolithic MILP and the decomposition give the same plan, both equal brute force on
cases small enough to enumerate, pruning never removes the optimum, and infeasible rules are named."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import synthetic as syn
from optimizer.errors import InfeasibleError
from optimizer.prune import non_dominated
from optimizer.select import select


def brute_force(sc, ev, target):
    """Enumerate every combination: the cheapest plan meeting target, class floors and the budget."""
    from scenarios.abc import sku_classes

    cls = sku_classes(sc)
    groups = [g for _, g in ev.groupby("sku", sort=False)]
    best, best_rows = np.inf, None
    obj_col = ev["cost_total"] - (ev["cost_shortage"] if target is not None else 0.0)
    for combo in itertools.product(*[g.index for g in groups]):
        r = ev.loc[list(combo)]
        d, m = r["demand_per_period"], r["fill_rate"]
        if target is not None and (d * m).sum() < target * d.sum() - 1e-12:
            continue
        ok = True
        for c, floor in sc.service.floors.items():
            sel = r["sku"].map(cls) == c
            if sel.any() and (d[sel] * m[sel]).sum() < floor * d[sel].sum() - 1e-12:
                ok = False
        if sc.budget.inventory_value is not None and r["inventory_value"].sum() > sc.budget.inventory_value + 1e-9:
            ok = False
        for mode in sc.transport:
            if mode.capacity_per_period is not None:
                if r.loc[r["mode"] == mode.name, "vehicles_per_period"].sum() > mode.capacity_per_period + 1e-9:
                    ok = False
        cost = obj_col.loc[list(combo)].sum()
        if ok and cost < best - 1e-12:
            best, best_rows = cost, list(combo)
    return best, best_rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_milp_and_decomposition_equal_brute_force(seed):
    sc = syn.scenario(4, service={"target": 0.9, "floors": {"A": 0.93}}, budget={"inventory_value": 1500.0},
                      solver={"mip_gap": 0.0})
    ev = syn.evaluations(sc, 5, seed=seed)
    best, rows = brute_force(sc, ev, 0.9)
    assert np.isfinite(best)
    for method in ("milp", "decomposition"):
        plan = select(sc, ev, method=method)
        assert plan.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
        assert list(plan.choice["S"]) == list(ev.loc[rows, "S"])


def test_brute_force_with_vehicle_capacity_cost_optimal():
    sc = syn.scenario(3, transport=[
        {"name": "truck", "lead_time": 3, "cost_per_shipment": 100, "capacity_per_period": 0.8},
        {"name": "air", "lead_time": 1, "cost_per_shipment": 300, "capacity_per_period": 1.2}],
        solver={"mip_gap": 0.0})
    ev = syn.evaluations(sc, 6, seed=5)
    best, rows = brute_force(sc, ev, None)
    for method in ("milp", "decomposition"):
        plan = select(sc, ev, method=method)
        assert plan.target is None and plan.service_dual is None
        assert plan.objective == pytest.approx(best, rel=1e-9)
        assert list(plan.choice.index) == list(range(3))
        assert list(plan.choice["S"]) == list(ev.loc[rows, "S"])


@pytest.mark.parametrize("seed", [3, 4])
def test_methods_agree_on_a_medium_case(seed):
    sc = syn.scenario(60, service={"target": 0.96, "floors": {"B": 0.9}}, budget={"inventory_value": 2.5e5},
                      solver={"mip_gap": 1e-9})
    ev = syn.evaluations(sc, 12, seed=seed)
    a = select(sc, ev, method="milp")
    b = select(sc, ev, method="decomposition")
    assert a.objective == pytest.approx(b.objective, rel=1e-8)
    assert b.achieved >= 0.96 - 1e-7
    # duals of the LP relaxation: both are the slope of the same convex hull (may differ if degenerate)
    assert a.service_dual == pytest.approx(b.service_dual, rel=1e-4)


def test_pruning_keeps_exactly_the_non_dominated():
    rng = np.random.default_rng(0)
    group = rng.integers(0, 5, 60)
    cost = rng.integers(0, 6, 60).astype(float)
    ben = rng.integers(0, 4, (2, 60)).astype(float)
    keep = non_dominated(group, cost, ben)
    for j in range(60):
        dominated = any(
            group[k] == group[j] and cost[k] <= cost[j] and np.all(ben[:, k] >= ben[:, j])
            and (cost[k] < cost[j] or np.any(ben[:, k] > ben[:, j]) or k < j)
            for k in range(60) if k != j)
        assert keep[j] == (not dominated)


def test_unreachable_target_names_rule_and_best_level():
    sc = syn.scenario(5, service={"target": 0.9999})
    ev = syn.evaluations(sc, 6, seed=1)
    best = sum(g["fill_rate"].max() * g["demand_per_period"].iloc[0] for _, g in ev.groupby("sku")) / \
        sum(g["demand_per_period"].iloc[0] for _, g in ev.groupby("sku"))
    with pytest.raises(InfeasibleError) as err:
        select(sc, ev)
    assert err.value.rule == "service.target"
    assert err.value.best_achievable == pytest.approx(best, rel=1e-12)


def test_target_blocked_by_budget_reports_level_within_budget():
    sc = syn.scenario(4, service={"target": 0.97}, budget={"inventory_value": 900.0}, solver={"mip_gap": 0.0})
    ev = syn.evaluations(sc, 5, seed=2)
    # best level within the budget, by enumeration
    groups = [g for _, g in ev.groupby("sku", sort=False)]
    best = 0.0
    for combo in itertools.product(*[g.index for g in groups]):
        r = ev.loc[list(combo)]
        if r["inventory_value"].sum() <= 900.0:
            best = max(best, (r["demand_per_period"] * r["fill_rate"]).sum() / r["demand_per_period"].sum())
    assert best < 0.97
    for method in ("milp", "decomposition"):
        with pytest.raises(InfeasibleError) as err:
            select(sc, ev, method=method)
        assert err.value.rule == "service.target"
        assert err.value.best_achievable == pytest.approx(best, abs=1e-7)


def test_sku_floor_names_the_sku():
    sc = syn.scenario(3, service={"sku_floor": 0.5})
    ev = syn.evaluations(sc, 4, seed=0)
    ev.loc[ev["sku"] == "s0001", "fill_rate"] = 0.3
    with pytest.raises(InfeasibleError) as err:
        select(sc, ev)
    assert err.value.rule == "service.sku_floor" and "s0001" in str(err.value)
    assert err.value.best_achievable == pytest.approx(0.3)


def test_unreachable_class_floor_names_the_class():
    sc = syn.scenario(6, service={"floors": {"A": 0.9999}})
    ev = syn.evaluations(sc, 5, seed=4)
    from scenarios.abc import sku_classes

    cls = sku_classes(sc)
    a = ev[ev["sku"].map(cls) == "A"]
    top = a.loc[a.groupby("sku")["fill_rate"].idxmax()]
    best = (top["fill_rate"] * top["demand_per_period"]).sum() / top["demand_per_period"].sum()
    with pytest.raises(InfeasibleError) as err:
        select(sc, ev)
    assert err.value.rule == "service.floors.A"
    assert err.value.best_achievable == pytest.approx(best, rel=1e-12)
