"""Issue 15, point 9: outputs people asked for. Expedited shipments and units per SKU (plan.csv and
the report's per-SKU table when the scenario has an expedite mode); the fitted demand model per SKU
and the count of SKUs per pattern and model in the report."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulation
from scenarios.schema import Expedite, Scenario
from tradeoff.report import render_report, tables
from tradeoff.verify import EXPEDITE_COLUMNS, plan_columns, verify

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_synthetic import synthetic_result  # noqa: E402


def expedite_scenario(expedite: bool = True) -> Scenario:
    """One SKU, a slow truck and an air mode: every unit short of a waiting customer flies (air costs
    7 per shipment and 2 per unit, the truck nothing, so cost_transport is the expedite money alone)."""
    return Scenario.model_validate({
        "format": 1, "name": "expedite-out", "seed": 3,
        "horizon": {"periods": 400, "warmup": 20},
        "replications": 3,
        "costs": {"holding_per_unit_period": 1.0, "in_transit_rate": 0.0, "backorder_per_unit": 1.0},
        "customer_reaction": {"wait": 1.0},
        "transport": [{"name": "truck", "lead_time": 3, "cost_per_shipment": 0.0, "cost_per_unit": 0.0},
                      {"name": "air", "lead_time": 1, "cost_per_shipment": 7.0, "cost_per_unit": 2.0}],
        **({"expedite": {"mode": "air"}} if expedite else {}),
        "policies": {"families": ["base_stock"], "review_periods": [1], "modes": ["truck"]},
        "skus": [{"id": "X", "unit_cost": 10, "price": 15, "demand": {"dist": "poisson", "mean": 4.0}}],
    })


def _verified(scenario: Scenario) -> pd.DataFrame:
    def evaluate(p, replications, seed):
        return simulation.evaluate(scenario, p, engine="kernel", replications=replications, seed=seed)

    pol = pd.DataFrame({"sku": ["X"], "family": ["base_stock"], "mode": ["truck"], "s": [np.nan], "S": [14.0],
                        "Q": [np.nan], "R": [1.0], "cap": [np.nan]})
    choice = evaluate(pol, scenario.replications, scenario.seed).assign(**{"class": "A"})
    plan, _ = verify(scenario, choice, evaluate, replications=scenario.replications, target=None)
    return plan


def test_evaluation_counts_expedited_shipments_and_units_per_period():
    sc = expedite_scenario()
    pol = pd.DataFrame({"sku": ["X"], "family": ["base_stock"], "mode": ["truck"], "s": [np.nan], "S": [14.0],
                        "Q": [np.nan], "R": [1.0], "cap": [np.nan]})
    out = simulation.evaluate(sc, pol, engine="kernel", replications=3, seed=5)
    row = out.iloc[0]
    assert row["expedite_shipments_per_period"] > 0 and row["expedite_units_per_period"] >= row["expedite_shipments_per_period"]
    # the truck is free: transport money is the expedite mode's, per shipment and per unit
    assert row["cost_transport"] == pytest.approx(7.0 * row["expedite_shipments_per_period"]
                                                  + 2.0 * row["expedite_units_per_period"])
    # the backordered units are those expedited (every short unit of a waiting customer flies); the
    # rate is a mean of per-replication ratios, so equal up to the replications' demand differences
    assert row["backorder_rate"] * row["demand_per_period"] == pytest.approx(row["expedite_units_per_period"], rel=0.02)


def test_plan_csv_has_expedite_columns_only_with_an_expedite_mode():
    sc = expedite_scenario()
    cols = plan_columns(sc)
    k = cols.index("vehicles_per_period")
    assert cols[k + 1:k + 3] == EXPEDITE_COLUMNS
    plan = _verified(sc)
    assert list(plan.columns) == cols
    assert plan.loc[0, "expedite_units_per_period"] > 0
    assert plan.loc[0, "cost_transport"] == pytest.approx(7.0 * plan.loc[0, "expedite_shipments_per_period"]
                                                          + 2.0 * plan.loc[0, "expedite_units_per_period"])
    without = expedite_scenario(expedite=False)
    assert not set(EXPEDITE_COLUMNS) & set(plan_columns(without))
    assert not set(EXPEDITE_COLUMNS) & set(_verified(without).columns)


def _with_expedite(result):
    result.scenario = result.scenario.model_copy(update={"expedite": Expedite(mode="air")})
    n = len(result.plan)
    result.plan = result.plan.assign(expedite_shipments_per_period=np.linspace(0.0, 0.5, n),
                                     expedite_units_per_period=np.linspace(0.0, 2.5, n))
    return result


def test_report_sku_table_shows_expedited_shipments_and_units_with_an_expedite_mode():
    plain = synthetic_result(with_audit=False)
    assert not any(h.label.startswith("Expedited") for h in tables.sku_table(plain).headers)
    result = _with_expedite(synthetic_result(with_audit=False))
    t = tables.sku_table(result)
    shipments = t.column("Expedited shipments")
    units = t.column("Expedited units")
    by_sku = dict(zip((c.content.text for c in t.column("SKU")), zip(shipments, units)))
    for sku, s, u in zip(result.plan["sku"], result.plan["expedite_shipments_per_period"],
                         result.plan["expedite_units_per_period"]):
        assert float(by_sku[sku][0].sort) == pytest.approx(s) and float(by_sku[sku][1].sort) == pytest.approx(u)
    page = render_report(result)
    assert "Expedited shipments / day" in page and "Expedited units / day" in page
    assert "Expedited shipments" not in render_report(plain)


MODELS = {"A-1": ("negbin", "erratic"), "A-2": ("poisson", "smooth"), "B-1": ("negbin", "erratic"),
          "B-2": ("compound", "lumpy"), "C-1": ("compound", "intermittent"), "C-2": ("empirical", "lumpy")}


def _with_models(result):
    p = result.plan
    result.plan = p.assign(demand_source="history",
                           demand_model=[MODELS[s][0] for s in p["sku"]],
                           demand_pattern=[MODELS[s][1] for s in p["sku"]],
                           demand_reason="fitted")
    return result


def test_report_counts_skus_per_demand_pattern_and_model():
    plain = synthetic_result(with_audit=False)
    assert tables.demand_model_table(plain) is None
    assert "Demand models" not in render_report(plain)
    result = _with_models(synthetic_result(with_audit=False))
    counts = tables.demand_models(result)
    rows = [(r.pattern, r.model, r.skus) for r in counts.itertuples()]
    # patterns in the documented order, then the total
    assert rows == [("smooth", "poisson", 1), ("erratic", "negbin", 2), ("intermittent", "compound", 1),
                    ("lumpy", "compound", 1), ("lumpy", "empirical", 1), ("All", "", 6)]
    demand = dict(zip(result.plan["sku"], result.plan["demand_per_period"]))
    erratic = counts.set_index(["pattern", "model"]).loc[("erratic", "negbin"), "demand_share"]
    assert erratic == pytest.approx((demand["A-1"] + demand["B-1"]) / sum(demand.values()))
    t = tables.demand_model_table(result)
    assert [h.label for h in t.headers] == ["Pattern", "Demand model", "SKUs", "Share of demand"]
    page = render_report(result)
    assert '<h2 id="demand-models">Demand models</h2>' in page and 'id="demand-models"' in page
    # the per-SKU table names each SKU's model and pattern
    sku_t = tables.sku_table(result)
    shown = dict(zip((c.content.text for c in sku_t.column("SKU")), (c.content.text for c in sku_t.column("Demand model"))))
    assert shown == {s: f"{m} ({p})" for s, (m, p) in MODELS.items()}


def test_demand_model_counts_read_back_from_csv_and_explicit_skus():
    """plan.csv read back: an explicit SKU's pattern may be empty (NaN in the CSV): counted under –,
    last, and the 'Of which explicit' column appears."""
    result = _with_models(synthetic_result(with_audit=False))
    p = result.plan.copy()
    p.loc[p["sku"] == "C-2", ["demand_source", "demand_model", "demand_pattern"]] = ["explicit", "poisson", np.nan]
    result.plan = p
    counts = tables.demand_models(result)
    assert counts.iloc[-2][["pattern", "model", "skus", "explicit"]].tolist() == ["–", "poisson", 1, 1]
    assert counts.iloc[-1]["explicit"] == 1
    t = tables.demand_model_table(result)
    assert "Of which explicit" in [h.label for h in t.headers]
    assert dict(zip((c.content.text for c in tables.sku_table(result).column("SKU")),
                    (c.content.text for c in tables.sku_table(result).column("Demand model"))))["C-2"] == "poisson"
