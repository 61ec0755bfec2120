"""A synthetic Result for the report tests (no simulation, no solver), built from closed-form curves
so that the tests know the right answers independently of the report code.

The exchange curve: logistics cost per period L(x) = A / (1 - x), shortage cost S(x) = B * (1 - x), so
total cost is minimal at x* = 1 - sqrt(A / B) with cost 2 sqrt(A B), and the marginal value of
service there is known. Every number is per period; the report must annualise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scenarios.schema import Scenario
from tradeoff.result import Result

A, B = 30.0, 30000.0            # x* = 1 - sqrt(0.001) = 0.96838
PPY = 364.0
METRICS = ["fill_rate", "cycle_service_level", "order_fill_rate", "stockout_frequency", "order_cycle_mean",
           "order_cycle_sd", "on_time_rate", "backorder_rate", "substitution_rate", "lost_sales_rate",
           "customers_lost", "avg_on_hand", "avg_in_transit"]
BUCKETS = ["cost_carrying", "cost_ordering", "cost_order_processing", "cost_transport", "cost_warehousing",
           "cost_shortage"]
# (id, unit_cost, price, class, demand mean, current policy or None)
SKUS = [("A-1", 10.0, 20.0, "A", 40.0, {"family": "sS", "s": 100, "S": 300, "mode": "truck"}),
        ("A-2", 12.0, 16.0, "A", 30.0, {"family": "RS", "S": 400, "R": 7, "mode": "truck"}),
        ("B-1", 8.0, 14.0, "B", 10.0, {"family": "sS", "s": 30, "S": 90, "mode": "truck"}),
        ("B-2", 20.0, 35.0, "B", 6.0, None),
        ("C-1", 5.0, 9.0, "C", 2.0, {"family": "sS", "s": 5, "S": 20, "mode": "truck"}),
        ("C-2", 40.0, 70.0, "C", 1.0, None)]


def optimum() -> tuple[float, float]:
    """(x*, total cost per period at x*) of the closed-form curve."""
    return 1.0 - math.sqrt(A / B), 2.0 * math.sqrt(A * B)


def scenario(target: float | None = 0.98, currency: str = "EUR", name: str = "synthetic-dc") -> Scenario:
    return Scenario.model_validate({
        "format": 1, "name": name, "description": "Synthetic DC for report tests", "currency": currency, "seed": 5,
        "horizon": {"periods": 200, "warmup": 10, "periods_per_year": PPY},
        "transport": [{"name": "truck", "lead_time": 3, "cost_per_shipment": 100},
                      {"name": "air", "lead_time": 1, "cost_per_shipment": 300}],
        "service": {"target": target, "floors": {"A": 0.97, "B": 0.95, "C": 0.90},
                    "frontier": [0.9, 0.93, 0.95, 0.97, 0.98, 0.99]},
        "variants": {"cheap": {"costs.carrying_rate": 0.1}, "fast": {"policies.modes": ["air"]}},
        "skus": [{"id": i, "unit_cost": c, "price": p, "class": k, "demand": {"dist": "poisson", "mean": d},
                  **({"current_policy": cp} if cp else {})} for i, c, p, k, d, cp in SKUS],
    })


def frontier(levels=(0.9, 0.93, 0.95, 0.97, 0.98, 0.99)) -> pd.DataFrame:
    """frontier.csv rows on the closed-form curve, plus the cost-optimal row at x*; buckets split the
    logistics cost 50/20/5/20/5 (carrying, ordering, processing, transport, warehousing)."""
    x_opt, _ = optimum()
    rows = []
    for x, is_opt in [(x_opt, True)] + [(float(v), False) for v in levels]:
        log, short = A / (1 - x), B * (1 - x)
        row = {"target": np.nan if is_opt else x, "achieved": x, "cost_total": log + short, "cost_logistics": log}
        for b, share in zip(BUCKETS[:5], (0.5, 0.2, 0.05, 0.2, 0.05)):
            row[b] = share * log
        row["cost_shortage"] = short
        # implied value of a lost unit: dL/dx divided by demand (units short per point of fill rate)
        row["implied_shortage_cost"] = np.nan if is_opt else (A / (1 - x) ** 2) / total_demand()
        row["cost_optimal"] = is_opt
        rows.append(row)
    f = pd.DataFrame(rows).sort_values("achieved", kind="stable").reset_index(drop=True)
    d = f["achieved"].diff() * 100
    f["marginal_cost"] = f["cost_logistics"].diff() / d
    return f


def total_demand() -> float:
    return sum(s[4] for s in SKUS)


def plan(level: float = 0.98) -> pd.DataFrame:
    """plan.csv rows: each SKU at fill rate `level` shifted by class, costs proportional to demand."""
    rows = []
    log, short = A / (1 - level), B * (1 - level)
    for k, (sku, uc, price, cls, d, _) in enumerate(SKUS):
        w = d / total_demand()
        fr = min(0.999, level + {"A": 0.005, "B": -0.01, "C": -0.03}[cls])
        row = {"sku": sku, "class": cls, "family": "sS" if k % 2 == 0 else "RS", "mode": "truck" if k < 4 else "air",
               "s": 2 * d if k % 2 == 0 else np.nan, "S": 6 * d, "Q": np.nan, "R": np.nan if k % 2 == 0 else 7.0,
               "cap": np.nan}
        for m in METRICS:
            row[m] = 0.0
        row.update(fill_rate=fr, cycle_service_level=fr - 0.05, order_fill_rate=fr - 0.01, on_time_rate=fr - 0.02,
                   stockout_frequency=(1 - fr) / 3, order_cycle_mean=1.0 + k * 0.1, order_cycle_sd=0.2 + 0.05 * k,
                   avg_on_hand=3 * d, avg_in_transit=d * 3)
        for b, share in zip(BUCKETS[:5], (0.5, 0.2, 0.05, 0.2, 0.05)):
            row[b] = share * log * w
        row["cost_shortage"] = short * w
        row["cost_total"] = sum(row[b] for b in BUCKETS)
        row["fill_rate_ci"] = 0.004
        row["cost_total_ci"] = 0.02 * row["cost_total"]
        row["demand_per_period"] = d
        rows.append(row)
    return pd.DataFrame(rows)


def audit_frame(p: pd.DataFrame) -> pd.DataFrame:
    """audit.csv rows: current policies 5 points of fill rate lower and 30 % dearer where present."""
    rows = []
    cur_by_sku = {s[0]: s[5] for s in SKUS}
    for _, r in p.iterrows():
        cp = cur_by_sku[r["sku"]]
        row = {"sku": r["sku"], "class": r["class"], "has_current_policy": cp is not None,
               "note": "" if cp else "no current policy in the scenario"}
        for q in ("family", "mode", "s", "S", "Q", "R", "cap"):
            row[f"current_{q}"] = (cp or {}).get(q, np.nan) if cp else np.nan
            row[f"recommended_{q}"] = r[q]
        for m in METRICS + BUCKETS + ["cost_total"]:
            row[f"recommended_{m}"] = r[m]
            if cp is None:
                row[f"current_{m}"] = np.nan
            elif m in BUCKETS or m == "cost_total":
                row[f"current_{m}"] = 1.3 * r[m]
            elif m == "fill_rate":
                row[f"current_{m}"] = r[m] - 0.05
            else:
                row[f"current_{m}"] = r[m]
        row["saving"] = row["current_cost_total"] - row["recommended_cost_total"] if cp else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def summary(p: pd.DataFrame, target: float | None, audit: pd.DataFrame | None) -> dict:
    d = p["demand_per_period"]
    totals = {b: float(p[b].sum()) for b in BUCKETS + ["cost_total"]}
    totals["cost_logistics"] = totals["cost_total"] - totals["cost_shortage"]
    level = target if target is not None else optimum()[0]
    in_sample = {k: v * 0.99 for k, v in totals.items()}
    s = {
        "scenario": {"name": "synthetic-dc", "currency": "EUR", "scenario_hash": "0123456789abcdef", "seed": 5,
                     "variants": []},
        "scenario_hash": "0123456789abcdef", "seed": 5, "engine": "kernel", "replications": 10,
        "verification": {"seed": 1000008, "replications": 20}, "candidates": 480, "refine_rounds": 2, "skus": len(p),
        "service": {"metric": "fill_rate", "target": target, "achieved": float((p["fill_rate"] * d).sum() / d.sum()),
                    "achieved_in_sample": level,
                    "rules": [{"rule": "service.target", "metric": "fill_rate", "required": target or 0.0,
                               "achieved": float((p["fill_rate"] * d).sum() / d.sum()), "met": True},
                              {"rule": "service.floors.C", "metric": "fill_rate", "required": 0.97, "achieved": 0.95,
                               "met": False}],
                    "rules_missed": ["service.floors.C"]},
        "totals": totals, "totals_in_sample": in_sample,
        "metrics": {m: float((p[m] * d).sum() / d.sum()) for m in METRICS},
        "solver": {"status": "optimal", "gap": 0.0, "objective": 1.0, "bound": 1.0, "method": "monolithic",
                   "candidates_used": 40},
        "implied_shortage_cost": (A / (1 - level) ** 2) / total_demand() if target is not None else None,
        "timings": {"simulate": 1.5, "select": 0.2}, "versions": {"tradeoff": "0.1.0", "numpy": "2.0"},
    }
    if audit is not None:
        a = audit[audit["has_current_policy"]]
        s["audit"] = {"skus_audited": int(len(a)), "skus_without_current_policy": audit.loc[~audit["has_current_policy"], "sku"].tolist(),
                      "current_cost_total": float(a["current_cost_total"].sum()),
                      "recommended_cost_total": float(a["recommended_cost_total"].sum()),
                      "saving": float(a["saving"].sum()), "metric": "fill_rate",
                      "current_service": 0.93, "recommended_service": 0.98}
    return s


def synthetic_result(target: float | None = 0.98, with_audit: bool = True, currency: str = "EUR",
                     name: str = "synthetic-dc") -> Result:
    """A complete Result on the closed-form curve (see the module docstring)."""
    level = target if target is not None else optimum()[0]
    p = plan(level)
    a = audit_frame(p) if with_audit else None
    s = summary(p, target, a)
    s["scenario"]["name"] = name
    return Result(scenario=scenario(target, currency, name), plan=p, frontier=frontier(), candidates=pd.DataFrame(),
                  summary=s, audit=a, extras={"folder": name})
