"""Numeric edge cases run to finite, theory-checked numbers or stop at a named rule; never NaN.

Zero-demand SKUs, huge demand (beyond 32-bit counts), lead time 0, a one-period horizon, one
replication, price equal to unit cost: each runs through `tradeoff.run` and every metric and cost
cell of plan.csv / frontier.csv / summary.json is a finite number, checked against what theory says
for that case. Demand, policy levels and customer bases too big to simulate exactly are refused by
a named ScenarioError rule (scenarios.schema.MAX_UNITS, MAX_CUSTOMER_HISTORY) instead of a crash.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulation
from scenarios.errors import ScenarioError
from scenarios.schema import MAX_CUSTOMER_HISTORY, MAX_PERIODS, MAX_UNITS
from tradeoff.pipeline import run

EDGES = """\
format: 1
name: edges
seed: 11
horizon: {periods: 30, warmup: 1}
replications: 2
costs: {order_cost: 20.0}
customer_reaction: {wait: 0.5, lost_sale: 0.5}
transport:
  - {name: truck, lead_time: 0, cost_per_shipment: 10, cost_per_unit: 0.1}
# flat's shortage costs nothing (no margin, waiting free): a cost-optimal run refuses that
# (scenarios.planning_rules), so its class has a service floor.
service: {frontier: [0.9, 0.95], floors: {F: 0.5}}
policies: {families: [base_stock, sS], review_periods: [0, 1]}
skus:
  - {id: zero, unit_cost: 5, price: 9, demand: 0}
  - {id: huge, unit_cost: 2, price: 3, demand: {dist: poisson, mean: 1000000000}}
  - {id: flat, unit_cost: 5, price: 5, class: F, demand: {dist: poisson, mean: 3}}
  - {id: plain, unit_cost: 4, price: 7, demand: {dist: poisson, mean: 4}}
"""
ONE_PERIOD = """\
format: 1
name: one-period
seed: 3
horizon: {periods: 1, warmup: 0, start: full}
replications: 1
costs: {order_cost: 5.0}
customer_reaction: {wait: 0.0, lost_sale: 1.0}
transport:  # lead time 0, continuous review: the protection period is 0, so no warm-up is needed
  - {name: truck, lead_time: 0, cost_per_shipment: 10, cost_per_unit: 0.1}
service: {frontier: [0.9]}
policies: {families: [base_stock, sS], review_periods: [0]}
skus:
  - {id: a, unit_cost: 5, price: 9, demand: 4}
  - {id: b, unit_cost: 3, price: 8, demand: 0}
"""
METRICS = ("fill_rate cycle_service_level order_fill_rate stockout_frequency order_cycle_mean order_cycle_sd "
           "on_time_rate backorder_rate substitution_rate lost_sales_rate customers_lost avg_on_hand avg_in_transit "
           "cost_carrying cost_ordering cost_order_processing cost_transport cost_warehousing cost_shortage "
           "cost_total fill_rate_ci cost_total_ci").split()
PARAMETERS = {"base_stock": {"S", "R"}, "sS": {"s", "S", "R"}, "rQ": {"s", "Q", "R"}, "RS": {"S", "R"},
              "RsS": {"s", "S", "R"}, "capped_base_stock": {"S", "cap", "R"}}
FRONTIER_NUMBERS = ["achieved", "cost_total", "cost_logistics", "cost_carrying", "cost_ordering",
                    "cost_order_processing", "cost_transport", "cost_warehousing", "cost_shortage"]


def _no_nan_constant(name: str):
    raise AssertionError(f"summary.json holds {name}")


def run_files(text: str, tmp_path, name: str):
    """Run the scenario text and read back plan.csv, frontier.csv and summary.json (NaN refused)."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    run(path, out=tmp_path / "out")
    folder = tmp_path / "out" / name
    plan = pd.read_csv(folder / "plan.csv", keep_default_na=False, na_values=[""])
    frontier = pd.read_csv(folder / "frontier.csv", keep_default_na=False, na_values=[""])
    summary = json.loads((folder / "summary.json").read_text(), parse_constant=_no_nan_constant)
    for file in ("plan.csv", "frontier.csv"):
        cells = [c.strip().lower() for line in (folder / file).read_text().splitlines() for c in line.split(",")]
        assert not {"nan", "inf", "-inf", "infinity"} & set(cells), file
    return plan, frontier, summary


def assert_plan_finite(plan: pd.DataFrame) -> None:
    """Every metric and cost of every SKU is a finite number; a policy parameter is empty exactly
    where the SKU's family has no such parameter."""
    values = plan[METRICS].to_numpy(dtype=float)
    assert np.isfinite(values).all(), plan[METRICS][~np.isfinite(values)].stack()
    for _, row in plan.iterrows():
        for p in ("s", "S", "Q", "cap", "R"):
            assert pd.isna(row[p]) == (p not in PARAMETERS[row["family"]]), (row["sku"], row["family"], p)


def assert_frontier_finite(frontier: pd.DataFrame) -> None:
    """Achieved service and every cost finite on every row; the target is empty only on the
    cost-optimal row (it has none)."""
    assert np.isfinite(frontier[FRONTIER_NUMBERS].to_numpy(dtype=float)).all()
    assert (frontier["target"].isna() == frontier["cost_optimal"].astype(bool)).all()


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    return run_files(EDGES, tmp_path_factory.mktemp("edges"), "edges")


def test_edge_scenario_runs_to_finite_numbers(edges):
    plan, frontier, summary = edges
    assert plan["sku"].tolist() == ["zero", "huge", "flat", "plain"]
    assert_plan_finite(plan)
    assert_frontier_finite(frontier)
    assert math.isfinite(summary["totals"]["cost_total"])


def test_zero_demand_sku_holds_nothing_and_counts_as_fully_served(edges):
    """No demand: any stock is pure cost, so the cost-optimal plan holds none; a service rate with
    nothing asked is 1 (docs/simulation.md: rates over zero demand count as met), never 0/0."""
    plan = edges[0].set_index("sku")
    zero = plan.loc["zero"]
    assert zero["cost_total"] == 0 and zero["avg_on_hand"] == 0 and zero["avg_in_transit"] == 0
    assert zero["fill_rate"] == 1 and zero["order_fill_rate"] == 1 and zero["cycle_service_level"] == 1
    assert zero["lost_sales_rate"] == 0 and zero["backorder_rate"] == 0


def test_price_equal_to_cost_makes_shortage_free(edges):
    """price == unit_cost: the default lost-sale cost (the margin) is 0 and no other shortage cost
    is set, so whatever the policy, cost_shortage is exactly 0."""
    plan = edges[0].set_index("sku")
    assert plan.loc["flat", "cost_shortage"] == 0
    assert plan.loc["plain", "cost_shortage"] >= 0


def test_huge_demand_is_counted_exactly(edges):
    """Poisson demand of 1e9 units per period (sums far beyond 32-bit counts): the mean measured out
    of sample is 1e9 within 6 standard errors, and rates stay inside [0, 1]."""
    plan, _, summary = edges
    huge = plan.set_index("sku").loc["huge"]
    n = summary["verification"]["replications"] * 30
    assert abs(huge["demand_per_period"] - 1e9) < 6 * math.sqrt(1e9 / n)
    for m in ("fill_rate", "cycle_service_level", "order_fill_rate", "lost_sales_rate"):
        assert 0.0 <= huge[m] <= 1.0


def test_one_period_one_replication_matches_the_arithmetic(tmp_path):
    """Horizon of one period, one replication: the half-widths are 0 (a single observation, the
    documented convention), and the numbers are the arithmetic of a single period: start with S on
    hand, fixed demand 4, lost sales: fill_rate = min(S, 4) / 4, end-of-period on hand max(S - 4, 0)."""
    plan, frontier, _ = run_files(ONE_PERIOD, tmp_path, "one-period")
    assert_plan_finite(plan)
    assert_frontier_finite(frontier)
    assert (plan["fill_rate_ci"] == 0).all() and (plan["cost_total_ci"] == 0).all()
    a = plan.set_index("sku").loc["a"]
    assert a["fill_rate"] == pytest.approx(min(a["S"], 4) / 4, abs=1e-12)
    assert a["avg_on_hand"] == pytest.approx(max(a["S"] - 4, 0), abs=1e-12)
    assert a["lost_sales_rate"] == pytest.approx(1 - a["fill_rate"], abs=1e-12)
    b = plan.set_index("sku").loc["b"]
    assert b["fill_rate"] == 1 and b["cost_total"] == 0


def _policies(sku: str, levels) -> pd.DataFrame:
    return pd.DataFrame({"sku": sku, "family": "base_stock", "mode": "truck", "s": np.nan,
                         "S": [float(x) for x in levels], "Q": np.nan, "R": 1.0, "cap": np.nan})


@pytest.mark.parametrize("demand", [3_000_000_000, 400_000_000_000])
def test_huge_fixed_demand_matches_the_deterministic_answer(tmp_path, demand):
    """Fixed demand D beyond 32-bit (3e9) and near the limit (4e11), base stock S reviewed every
    period, lead time 0, lost sales: each period starts at S, so fill_rate = min(S, D) / D and the
    end-of-period on hand is max(S - D, 0), exactly; both engines agree."""
    path = tmp_path / "fixed.yaml"
    path.write_text(EDGES.replace("name: edges", "name: fixed"))
    sc = scenarios.load(path, overrides={"skus[1].demand": demand, "customer_reaction": {"wait": 0, "lost_sale": 1}})
    levels = [0.5 * demand, demand, 1.5 * demand]
    for engine in ("kernel", "simpy"):
        out = simulation.evaluate(sc, _policies("huge", levels), engine=engine, replications=2, seed=1)
        for S, (_, row) in zip(levels, out.iterrows()):
            assert row["fill_rate"] == pytest.approx(min(S, demand) / demand, rel=1e-12)
            assert row["avg_on_hand"] == pytest.approx(max(S - demand, 0), rel=1e-12)
            assert row["demand_per_period"] == demand
            assert np.isfinite(row[METRICS].to_numpy(dtype=float)).all()


def test_edge_skus_give_the_same_numbers_in_both_engines(tmp_path):
    """Zero demand, huge demand, price = cost and lead time 0 on the reference (SimPy) engine and
    the kernel: the same metrics and costs for a grid of levels including 0."""
    path = tmp_path / "edges.yaml"
    path.write_text(EDGES)
    sc = scenarios.load(path)
    policies = pd.concat([_policies("zero", [0, 5]), _policies("huge", [0, 1e9, 3e9]), _policies("flat", [0, 6])],
                         ignore_index=True)
    policies.loc[len(policies)] = ["flat", "sS", "truck", 2.0, 9.0, np.nan, 0.0, np.nan]
    kernel = simulation.evaluate(sc, policies, engine="kernel", replications=2, seed=4)
    simpy = simulation.evaluate(sc, policies, engine="simpy", replications=2, seed=4)
    pd.testing.assert_frame_equal(kernel, simpy, rtol=1e-9)
    assert np.isfinite(kernel[METRICS].to_numpy(dtype=float)).all()


# --------------------------------------------------------------------------- size rules
TOO_BIG = [
    ("skus[0].demand", {"dist": "poisson", "mean": 1e19}, "skus[0].demand"),
    ("skus[0].demand", 1e13, "skus[0].demand"),
    ("skus[0].demand", {"dist": "gamma", "mean": 1e11, "cv": 2}, "skus[0].demand"),  # 1e11 + 10 sd = 2.1e12
    ("skus[0].demand", {"dist": "empirical", "values": [1, 2e12]}, "skus[0].demand"),
    ("skus[0].demand", {"dist": "compound", "orders": 1e6, "size": {"dist": "uniform", "low": 0, "high": 1e7}},
     "skus[0].demand"),
    ("policies.moq", 10**19, "policies.moq"),
    ("skus[0].current_policy", {"family": "base_stock", "S": 1e19}, "skus[0].current_policy.S"),
    ("policies.candidates", {"sS": [{"s": -1e13, "S": 5}]}, "policies.candidates.sS[0].s"),
]


@pytest.mark.parametrize("path,value,where", TOO_BIG, ids=[f"{w}-{i}" for i, (_, _, w) in enumerate(TOO_BIG)])
def test_values_too_big_to_simulate_exactly_are_refused_by_a_named_rule(tmp_path, path, value, where):
    """Unit counts above MAX_UNITS would overflow 64-bit stock levels or lose exactness (before the
    rule: OverflowError / ValueError tracebacks); they are a ScenarioError naming the path and limit."""
    p = tmp_path / "s.yaml"
    p.write_text(EDGES)
    with pytest.raises(ScenarioError) as info:
        scenarios.load(p, overrides={path: value})
    msg = str(info.value)
    assert f"{where}:" in msg and f"{MAX_UNITS:g}" in msg, msg


def test_demand_just_below_the_limit_loads(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(EDGES)
    sc = scenarios.load(p, overrides={"skus[0].demand": MAX_UNITS})
    assert sc.skus[0].demand.value == MAX_UNITS


def test_customer_history_too_big_is_refused(tmp_path):
    """Defection keeps `threshold` stockout records per customer: 1e10 customers would exhaust memory
    (before the rule: MemoryError inside the kernel)."""
    p = tmp_path / "s.yaml"
    p.write_text(EDGES)
    reaction = {"wait": 1.0, "repeated_stockout": {"window": 5, "threshold": 2, "defect_probability": 0.5}}
    others = {f"skus[{i}].customers": 1 for i in range(3)}  # defection needs every SKU's customers count
    with pytest.raises(ScenarioError) as info:
        scenarios.load(p, overrides={**others, "skus[3].customers": 10**10, "customer_reaction": reaction})
    assert "skus[3].customers:" in str(info.value) and str(MAX_CUSTOMER_HISTORY) in str(info.value)
    ok = scenarios.load(p, overrides={**others, "skus[3].customers": MAX_CUSTOMER_HISTORY // 2,
                                      "customer_reaction": reaction})
    assert ok.skus[3].customers == MAX_CUSTOMER_HISTORY // 2


@pytest.mark.parametrize("override,where", [
    ({"horizon": {"periods": 10**9, "warmup": 0}}, "horizon:"),
    ({"horizon": {"periods": MAX_PERIODS, "warmup": 1}}, "horizon:"),
    ({"transport[0].lead_time": 10**15}, "transport[0].lead_time:"),
    ({"transport[0].lead_time": {"dist": "gamma", "mean": 1e5, "cv": 1}}, "transport[0].lead_time:"),
])
def test_horizons_and_lead_times_too_long_to_simulate_are_refused(tmp_path, override, where):
    """Per-period arrays span the horizon and the longest lead time (before the rule: MemoryError in
    the kernel for a lead time of 1e15, an out-of-memory kill for 1e9 periods)."""
    p = tmp_path / "s.yaml"
    p.write_text(EDGES)
    with pytest.raises(ScenarioError) as info:
        scenarios.load(p, overrides=override)
    assert where in str(info.value) and f"{MAX_PERIODS:,}" in str(info.value)
    ok = scenarios.load(p, overrides={"horizon": {"periods": MAX_PERIODS - 10, "warmup": 10}})
    assert ok.horizon.periods + ok.horizon.warmup == MAX_PERIODS
