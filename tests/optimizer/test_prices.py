"""Prices of the coupling rules (optimizer.prices) against Lagrangian duality theory.

With the coupling rows `A x >= b` priced at y >= 0, the Lagrangian function
    L(y) = sum over SKUs of min_j (c_j - y . A_j) + y . b
is a lower bound on every plan's cost (weak duality), and at the LP duals it equals the LP
relaxation's optimum (strong duality: one choice per SKU has an integral convex hull, so the
Lagrangian dual is the LP relaxation). The reduced costs of `plan.prices.reduced_cost` are
c_j - y . A_j expressed per unit of each rule's own resource, so here L(y) is computed from them
(service rows have b = 0; a limit row `-use >= -cap` contributes -price * cap) and compared with

- the LP relaxation solved independently (scipy.optimize.linprog on the whole table, no pruning);
- the plan's objective (weak duality);
- complementary slackness: every candidate the LP relaxation uses has the least reduced cost of its
  SKU, and a basic LP solution splits at most one SKU per tight row, so the per-SKU argmin of the
  reduced costs is the LP's choice at every SKU but those (and ties);
- the plan: cost(plan) - L(y) = sum of its SKUs' reduced-cost slacks + sum_r y_r * (row surplus)
  >= the sum of the slacks, so no SKU's choice can be further from its price-optimal candidate
  than the duality gap; the SKUs where the plan differs from the price-optimal candidate (those
  with a positive slack) are few: at most the binding rows plus two (an allowance, not a theorem:
  the integer plan may move more SKUs than the LP splits).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

import synthetic as syn
from optimizer import select
from optimizer.prices import Prices
from scenarios.abc import sku_classes

N_SKUS = 24
PER_SKU = 9


def _lp_relaxation(sc, ev: pd.DataFrame, target: float | None) -> tuple[float, np.ndarray, int]:
    """(optimum, x, number of coupling rows tight at x) of the selection's LP relaxation over every row of `ev`,
    written from the rules as select's docstring states them, solved by scipy's dual simplex (a basic
    solution)."""
    n = len(ev)
    sku = ev["sku"].to_numpy(object)
    ids = [s.id for s in sc.skus]
    cost = ev["cost_total"].to_numpy(float)
    if target is not None:
        cost = cost - ev["cost_shortage"].to_numpy(float)
    d, m = ev["demand_per_period"].to_numpy(float), ev["fill_rate"].to_numpy(float)
    cls = ev["sku"].map(sku_classes(sc)).to_numpy(object)
    A_ub, b_ub = [], []
    if target is not None:  # sum d m x >= t sum d x  ->  -sum d (m - t) x <= 0
        A_ub.append(-d * (m - target))
        b_ub.append(0.0)
    for c, floor in sc.service.floors.items():
        A_ub.append(-np.where(cls == c, d * (m - floor), 0.0))
        b_ub.append(0.0)
    if sc.budget.inventory_value is not None:
        A_ub.append(ev["inventory_value"].to_numpy(float))
        b_ub.append(float(sc.budget.inventory_value))
    A_eq = np.array([(sku == i).astype(float) for i in ids])
    res = linprog(cost, A_ub=csr_matrix(np.array(A_ub)) if A_ub else None, b_ub=b_ub or None,
                  A_eq=csr_matrix(A_eq), b_eq=np.ones(len(ids)), bounds=(0, None), method="highs-ds")
    assert res.status == 0, res.message
    tight = int(np.sum(res.ineqlin.residual <= 1e-9 * np.maximum(1.0, np.abs(b_ub)))) if A_ub else 0
    return float(res.fun), res.x, tight


def _lagrangian(sc, ev: pd.DataFrame, prices: Prices) -> tuple[float, np.ndarray, pd.Series]:
    """(L(y), reduced cost per row, least reduced cost per SKU)."""
    classes = ev["sku"].map(sku_classes(sc)).to_numpy(object)
    rc = prices.reduced_cost(sc, ev, classes)
    least = pd.Series(rc).groupby(ev["sku"].to_numpy()).min()
    caps = {"budget.inventory_value": sc.budget.inventory_value}
    constant = -sum(price * float(caps[rule]) for rule, price in prices.limits)
    return float(least.sum()) + constant, rc, least


def _chosen_rows(ev: pd.DataFrame, plan) -> np.ndarray:
    """Row position in `ev` of each SKU's chosen candidate (synthetic rows are unique by sku, S, mode)."""
    pos = ev.reset_index(drop=True).reset_index().merge(plan.choice[["sku", "S", "mode"]], on=["sku", "S", "mode"])
    assert len(pos) == len(plan.choice) == N_SKUS
    return pos.set_index("sku").loc[plan.choice["sku"], "index"].to_numpy()


def _cases(ev: pd.DataFrame):
    """(name, scenario, target argument, rule that must bind) for the binding rules of the brief."""
    best = ev.loc[ev.groupby("sku")["cost_total"].idxmin()]
    lean = ev.groupby("sku")["inventory_value"].min().sum()
    # Halfway between the leanest plan and the cost-optimal plan's inventory value: binding, feasible.
    budget = float(lean + 0.5 * (best["inventory_value"].sum() - lean))
    cls = sku_classes(syn.scenario(N_SKUS))
    a = best[best["sku"].map(cls) == "A"]
    a_level = float((a["fill_rate"] * a["demand_per_period"]).sum() / a["demand_per_period"].sum())
    a_all = ev[ev["sku"].map(cls) == "A"]
    top = a_all.loc[a_all.groupby("sku")["fill_rate"].idxmax()]
    a_top = float((top["fill_rate"] * top["demand_per_period"]).sum() / top["demand_per_period"].sum())
    floor = a_level + 0.5 * (a_top - a_level)  # above the cost-optimal A level, below the best reachable
    gap0 = {"solver": {"mip_gap": 0.0}}
    return [
        ("target", syn.scenario(N_SKUS, service={"target": 0.95}, **gap0), None, "service.target"),
        ("class floor", syn.scenario(N_SKUS, service={"floors": {"A": floor}}, **gap0), "cost_optimal",
         "service.floors.A"),
        ("budget", syn.scenario(N_SKUS, budget={"inventory_value": budget}, **gap0), "cost_optimal",
         "budget.inventory_value"),
        ("all three", syn.scenario(N_SKUS, service={"target": 0.93, "floors": {"A": floor}},
                                   budget={"inventory_value": budget * 1.6}, **gap0), None, "service.floors.A"),
    ]


CASES = [(seed, k) for seed in (0, 1) for k in range(4)]


@pytest.mark.parametrize("method", ["milp", "decomposition"])
@pytest.mark.parametrize("seed,case", CASES)
def test_prices_are_lagrangian_multipliers(seed, case, method):
    ev = syn.evaluations(syn.scenario(N_SKUS), PER_SKU, seed=seed)
    name, sc, target_arg, binding = _cases(ev)[case]
    plan = select(sc, ev, target=target_arg, method=method)
    target = plan.target
    assert plan.duals[binding] > 1e-6, f"{name}: the rule meant to bind does not ({plan.duals})"
    assert plan.prices.objective == ("logistics" if target is not None else "total")

    L, rc, least = _lagrangian(sc, ev, plan.prices)
    lp, x, tight = _lp_relaxation(sc, ev, target)
    scale = max(1.0, abs(lp))
    # Strong duality of the LP: the prices are optimal duals, L(y) is the LP relaxation's optimum.
    assert L == pytest.approx(lp, abs=1e-7 * scale), name
    # Weak duality: no plan costs less than L(y); the plan is at least the LP bound.
    assert plan.objective >= L - 1e-7 * scale
    assert plan.objective >= lp - 1e-7 * scale

    # Complementary slackness: the LP relaxation uses only candidates of least reduced cost.
    sku = ev["sku"].to_numpy()
    slack_all = rc - least.loc[sku].to_numpy()
    used = x > 1e-7
    assert np.all(slack_all[used] <= 1e-6 * scale), name
    # A basic solution splits at most one SKU per tight row; every other SKU takes one candidate,
    # and the per-SKU argmin of the reduced costs is that candidate up to ties.
    split = pd.Series(used).groupby(sku).sum()
    assert int((split > 1).sum()) <= tight
    argmin = pd.Series(rc).groupby(sku).idxmin()
    whole = split.index[split == 1]
    lp_pick = pd.Series(np.flatnonzero(used), index=sku[used]).loc[whole]
    disagree = [s for s in whole if argmin[s] != lp_pick[s]]
    assert not disagree, name  # (the synthetic costs carry noise: no exact ties)

    # The plan: its reduced-cost slacks add up to no more than the duality gap.
    chosen = _chosen_rows(ev, plan)
    slack = slack_all[chosen]
    assert np.all(slack >= -1e-9 * scale)
    assert slack.sum() <= plan.objective - L + 1e-7 * scale, name
    # Where the plan's choice is not a least-reduced-cost candidate, it pays that slack: the plan
    # equals the per-SKU price-optimal choice at all SKUs but a few (the rows bind them together).
    off = int((slack > 1e-7 * scale).sum())
    # (Not a theorem for the integer plan, unlike the LP's bound above: the finish may move a SKU or
    # two more than the binding rows; the Lagrangian view of the module expects few.)
    n_binding = sum(1 for v in plan.duals.values() if v > 1e-9)
    assert off <= n_binding + 2, (name, off, n_binding)


def test_no_binding_rule_prices_are_zero_and_the_plan_is_the_argmin():
    """A target below what the logistics-cheapest plan already reaches: the row is slack, its price is
    0, and each SKU's choice is its own least logistics cost (no coupling left)."""
    sc = syn.scenario(N_SKUS, solver={"mip_gap": 0.0})
    ev = syn.evaluations(sc, PER_SKU, seed=2)
    plan = select(sc, ev, target=0.05)
    assert plan.duals["service.target"] == 0.0
    assert all(price == 0.0 for _, _, price in plan.prices.service)
    classes = ev["sku"].map(sku_classes(sc)).to_numpy(object)
    rc = plan.prices.reduced_cost(sc, ev, classes)
    np.testing.assert_array_equal(rc, (ev["cost_total"] - ev["cost_shortage"]).to_numpy())
    argmin = pd.Series(rc).groupby(ev["sku"].to_numpy()).idxmin()
    np.testing.assert_array_equal(np.sort(_chosen_rows(ev, plan)), np.sort(argmin.to_numpy()))


def test_prices_by_hand():
    """reduced_cost and half_width on two rows, computed by hand from the documented formulas."""
    sc = syn.scenario(2, budget={"inventory_value": 100.0})
    ev = pd.DataFrame({"sku": ["s0000", "s0001"], "mode": ["truck", "air"], "cost_total": [10.0, 20.0],
                       "cost_shortage": [1.0, 4.0], "demand_per_period": [5.0, 8.0], "fill_rate": [0.9, 0.99],
                       "inventory_value": [30.0, 50.0], "cost_total_ci": [0.5, np.nan],
                       "fill_rate_ci": [0.01, 0.02]})
    classes = np.array(["A", "B"], dtype=object)
    p = Prices("logistics", "fill_rate", service=((None, 0.95, 2.0), ("B", 0.97, 3.0)),
               limits=(("budget.inventory_value", 0.1),))
    expected = np.array([
        10 - 1 - 2.0 * 5 * (0.9 - 0.95) + 0.1 * 30,
        20 - 4 - 2.0 * 8 * (0.99 - 0.95) - 3.0 * 8 * (0.99 - 0.97) + 0.1 * 50,
    ])
    np.testing.assert_allclose(p.reduced_cost(sc, ev, classes), expected, rtol=1e-14)
    np.testing.assert_allclose(p.half_width(ev, classes),
                               [0.5 + 2.0 * 5 * 0.01, 0.0 + 2.0 * 8 * 0.02 + 3.0 * 8 * 0.02], rtol=1e-14)
    # The duals of a solve become these prices: per unit of each row's demand scale.
    q = Prices.from_duals("logistics", "fill_rate", {"service.target": 26.0, "service.floors.B": 24.0,
                                                     "budget.inventory_value": 0.1},
                          0.95, {"B": 0.97}, demand_total=13.0, class_demand={"A": 5.0, "B": 8.0})
    assert q.service == ((None, 0.95, 2.0), ("B", 0.97, 3.0))
    assert q.limits == (("budget.inventory_value", 0.1),)
