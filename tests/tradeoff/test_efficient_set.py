"""tradeoff.search.efficient_set: the rows the selection can ever choose.

Brute force, two ways:
- the selection over the efficient set has the optimum of the selection over the whole table, for
  every kind of rule (cost-optimal, an aggregate target, class floors, an inventory budget, vehicle
  capacities, a SKU floor), solved exactly (mip_gap 0);
- pairwise on a small table with duplicates and worse copies planted: every dropped row is dominated
  (no better in any of cost_total, logistics cost, d*m, d*(m-1) and each resource a limit counts) by
  a kept row of its SKU (and of its side of the SKU floor), and no kept row is dominated by another
  row; of identical rows exactly one is kept.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import select
from scenarios.abc import sku_classes
from tradeoff.search import efficient_set


def _synthetic():
    """tests/optimizer/synthetic.py (the synthetic evaluations tables), under the name its own tests use."""
    if "synthetic" not in sys.modules:
        spec = importlib.util.spec_from_file_location("synthetic", Path(__file__).resolve().parents[1] / "optimizer" / "synthetic.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["synthetic"] = module
        spec.loader.exec_module(module)
    return sys.modules["synthetic"]


syn = _synthetic()

TRANSPORT_CAPS = [
    {"name": "truck", "lead_time": 3, "cost_per_shipment": 100, "vehicle_capacity": 500, "capacity_per_period": 6.0},
    {"name": "air", "lead_time": 1, "cost_per_shipment": 300, "capacity_per_period": 1.2},
]
N = 16


def _table(seed: int) -> pd.DataFrame:
    """Synthetic evaluations, vehicles per period fixed per mode (random per row, no row would dominate
    another once vehicle capacities count), plus a worse copy of some rows (more cost, less service,
    more inventory: dominated whatever the rules)."""
    ev = syn.evaluations(syn.scenario(N), 10, seed=seed)
    ev["vehicles_per_period"] = np.where(ev["mode"] == "truck", 0.3, 0.5)
    # demand per period as simulated: a little different per candidate (d*m and d*(m-1) then differ)
    ev["demand_per_period"] *= 1.0 + 0.03 * np.random.default_rng(seed).random(len(ev))
    worse = ev.iloc[::7].copy()
    worse["S"] += 0.5  # another policy
    worse["cost_total"] += 0.3
    worse["fill_rate"] -= 0.002
    worse["inventory_value"] += 1.0
    return pd.concat([ev, worse], ignore_index=True)


def _level(rows: pd.DataFrame) -> float:
    return float((rows["fill_rate"] * rows["demand_per_period"]).sum() / rows["demand_per_period"].sum())


def _scenarios(ev: pd.DataFrame) -> list[tuple[str, object, object, str]]:
    """(name, scenario, target argument, the rule that must bind) with each rule set where it binds:
    between what the cost-optimal plan (each SKU's cheapest row) does and the best reachable."""
    cls = sku_classes(syn.scenario(N))
    best = ev.loc[ev.groupby("sku")["cost_total"].idxmin()]
    top = ev.loc[ev.groupby("sku")["fill_rate"].idxmax()]
    lean = ev.groupby("sku")["inventory_value"].min().sum()
    budget = float(lean + 0.5 * (best["inventory_value"].sum() - lean))
    floors = {c: _level(best[best["sku"].map(cls) == c]) + 0.5 * (_level(top[top["sku"].map(cls) == c])
                                                                    - _level(best[best["sku"].map(cls) == c]))
              for c in ("A", "C")}
    sku_floor = float(min(top["fill_rate"].min(), best["fill_rate"].quantile(0.75)))
    gap0 = {"solver": {"mip_gap": 0.0}}
    at_target = select(syn.scenario(N, **gap0), ev, target=0.9).choice["inventory_value"].sum()
    air = int((best["mode"] == "air").sum())
    caps = [dict(TRANSPORT_CAPS[0]), dict(TRANSPORT_CAPS[1], capacity_per_period=0.5 * (air // 2) + 0.1)]
    return [
        ("cost-optimal", syn.scenario(N, **gap0), None, ""),
        ("target", syn.scenario(N, service={"target": 0.95}, **gap0), None, "service.target"),
        ("frontier level", syn.scenario(N, service={"target": 0.95}, **gap0), 0.9, "service.target"),
        ("class floors", syn.scenario(N, service={"floors": floors}, **gap0), None, "service.floors.C"),
        ("budget", syn.scenario(N, budget={"inventory_value": budget}, **gap0), None, "budget.inventory_value"),
        ("budget and target", syn.scenario(N, service={"target": 0.9}, budget={"inventory_value": 0.97 * at_target},
                                           **gap0), None, "budget.inventory_value"),
        ("vehicle capacity", syn.scenario(N, transport=caps, **gap0), None, "transport[1].capacity_per_period"),
        ("sku floor", syn.scenario(N, service={"sku_floor": sku_floor}, **gap0), None, "service.sku_floor"),
        ("sku floor and target", syn.scenario(N, service={"sku_floor": sku_floor, "target": 0.95}, **gap0), None,
         "service.sku_floor"),
    ]


@pytest.mark.parametrize("case", range(9))
@pytest.mark.parametrize("seed", [0, 1])
def test_selection_over_the_efficient_set_has_the_same_optimum(seed, case):
    ev = _table(seed)
    name, sc, target, binding = _scenarios(ev)[case]
    eff = efficient_set(sc, ev)
    assert len(eff) < len(ev), f"{name}: nothing dropped, the comparison would say nothing"
    full = select(sc, ev, target=target, method="milp")
    small = select(sc, eff, target=target, method="milp")
    assert small.objective == pytest.approx(full.objective, rel=1e-9, abs=1e-12), name
    # the plan over the efficient set is a plan of the whole table (its rows are rows of ev)
    keys = ["sku", "mode", "S"]
    assert len(small.choice[keys].merge(ev[keys], on=keys)) == N
    # the rule of the case binds (else the case would test the cost-optimal selection again)
    if binding == "service.sku_floor":
        assert (select(syn.scenario(N), ev).choice["fill_rate"] < sc.service.sku_floor).any()
    elif binding:
        assert full.duals[binding] > 1e-9, (name, full.duals)


def _dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """a (attributes, more is better) is at least as good as b everywhere."""
    return bool(np.all(a >= b))


def _attributes(sc, table: pd.DataFrame) -> np.ndarray:
    """Per row, "more is better": -cost_total, -logistics, d*m, d*(m-1), -use of every limit set."""
    d, m = table["demand_per_period"].to_numpy(float), table["fill_rate"].to_numpy(float)
    cols = [-table["cost_total"].to_numpy(float), -(table["cost_total"] - table["cost_shortage"]).to_numpy(float),
            d * m, d * (m - 1.0)]
    if sc.budget.inventory_value is not None:
        cols.append(-table["inventory_value"].to_numpy(float))
    for mode in sc.transport:
        if mode.capacity_per_period is not None:
            cols.append(-np.where(table["mode"] == mode.name, table["vehicles_per_period"], 0.0))
    return np.column_stack(cols)


def _planted_table(seed: int) -> pd.DataFrame:
    """A small table with exact duplicates and worse copies (dominated in every attribute or in one)."""
    rng = np.random.default_rng(seed)
    ev = syn.evaluations(syn.scenario(4), 7, seed=seed)
    ev["demand_per_period"] *= 1.0 + 0.03 * rng.random(len(ev))
    picks = rng.choice(len(ev), 10, replace=False)
    dup = ev.iloc[picks[:4]]
    worse = ev.iloc[picks[4:7]].copy()
    worse["cost_total"] += 1.0  # worse in cost only: dominated
    worse["cost_shortage"] += 1.0  # same logistics cost
    worse_service = ev.iloc[picks[7:]].copy()
    worse_service["fill_rate"] -= 0.01  # worse in service only: dominated
    table = pd.concat([ev, dup, worse, worse_service], ignore_index=True)
    return table.iloc[rng.permutation(len(table))].reset_index(drop=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rules", [{}, {"budget": {"inventory_value": 1e4}}, {"transport": TRANSPORT_CAPS},
                                   {"service": {"sku_floor": 0.85}}])
def test_dropped_rows_are_dominated_by_kept_rows(seed, rules):
    sc = syn.scenario(4, **rules)
    table = _planted_table(seed)
    eff = efficient_set(sc, table)
    # kept rows are rows of the table; find which (identical rows: any one of them)
    attrs = _attributes(sc, table)
    kept_attrs = _attributes(sc, eff)
    floor = sc.service.sku_floor
    side = (table["fill_rate"].to_numpy() >= floor - 1e-12) if floor is not None else np.zeros(len(table), bool)
    kept_side = (eff["fill_rate"].to_numpy() >= floor - 1e-12) if floor is not None else np.zeros(len(eff), bool)
    sku, kept_sku = table["sku"].to_numpy(), eff["sku"].to_numpy()
    policy = ["sku", "family", "mode", "s", "S", "Q", "R", "cap"]
    kept_rows = set(map(tuple, eff.astype(str).to_numpy()))
    for j in range(len(table)):
        same = (kept_sku == sku[j]) & (kept_side == side[j])
        if tuple(table.iloc[j].astype(str)) in kept_rows:
            # a kept row (or an identical copy of one): no row of its SKU and side is at least as good everywhere and better somewhere
            others = (sku == sku[j]) & (side == side[j])
            for k in np.flatnonzero(others):
                if k != j and _dominates(attrs[k], attrs[j]):
                    assert np.array_equal(attrs[k], attrs[j]), f"kept row {j} is dominated by row {k}"
            continue
        assert any(_dominates(kept_attrs[i], attrs[j]) for i in np.flatnonzero(same)), f"row {j} dropped undominated"
    assert len(table) - len(eff) >= 10  # at least the planted duplicates and worse copies
    # of identical rows (same policy and numbers) exactly one is kept
    counts = eff.astype(str).groupby(policy, dropna=False).size()
    assert counts.max() == 1
    assert len(eff.drop_duplicates()) == len(eff)
