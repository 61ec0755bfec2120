"""The comparison table: several finished runs side by side, one row per run (compare.csv, and the
table of the comparison page).

Pure table-building over Results: it depends only on the report's formatting and headline modules,
never on the pipeline, the result writer or the page, so the direction of dependency stays
pipeline -> results_io -> report -> comparison (tradeoff.compare runs or reuses the runs and writes
the files). Money in the table is per year (per-period money times horizon.periods_per_year).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tradeoff.report.format import BUCKETS, is_number
from tradeoff.report.headline import get, headline

AGGREGATE_METRICS = ["fill_rate", "cycle_service_level", "order_fill_rate", "on_time_rate", "stockout_frequency",
                     "order_cycle_mean", "order_cycle_sd", "backorder_rate", "substitution_rate", "lost_sales_rate",
                     "customers_lost", "avg_on_hand", "avg_in_transit"]


def label_of(result) -> str:
    """A result's name in a comparison: the folder name (scenario name + variants)."""
    folder = (result.extras or {}).get("folder")
    if folder:
        return str(folder)
    variants = get(result.summary, "scenario", "variants") or []
    name = result.scenario.name if result.scenario is not None else get(result.summary, "scenario", "name", default="")
    return str(name) + "".join(f"+{v}" for v in variants)


def compare_table(results: list) -> pd.DataFrame:
    """One row per run (tradeoff.result.Result, each with its scenario), indexed by its folder name:
    currency, service metric, SKUs, target, achieved (out of sample), cost-optimal level and cost,
    cost per year in total and by bucket (recommended plan, out of sample), aggregate metrics, the
    implied value of a lost unit and the demand-weighted margin, the audit's saving per year, the
    scenario hash. Money per year."""
    rows = []
    for r in results:
        s = r.summary or {}
        ppy = float(r.scenario.horizon.periods_per_year)
        h = headline(r)
        row: dict[str, Any] = {"scenario": label_of(r), "currency": r.scenario.currency, "metric": h.metric,
                               "skus": len(r.plan) if r.plan is not None else len(r.scenario.skus),
                               "periods_per_year": ppy, "target": h.target, "achieved": h.achieved,
                               "cost_optimal_level": h.optimal_level, "cost_optimal_cost_per_year": h.optimal_cost}
        totals = get(s, "totals") or {}
        if not totals and r.plan is not None:
            totals = {b: float(r.plan[b].sum()) for b in BUCKETS + ["cost_total"] if b in r.plan.columns}
        row["cost_per_year"] = float(totals["cost_total"]) * ppy if is_number(totals.get("cost_total")) else np.nan
        for b in BUCKETS:
            row[f"{b}_per_year"] = float(totals[b]) * ppy if is_number(totals.get(b)) else np.nan
        if is_number(totals.get("cost_total")) and is_number(totals.get("cost_shortage")):
            row["cost_logistics_per_year"] = (float(totals["cost_total"]) - float(totals["cost_shortage"])) * ppy
        metrics = get(s, "metrics") or {}
        for m in AGGREGATE_METRICS:
            row[m] = float(metrics[m]) if is_number(metrics.get(m)) else np.nan
        row["implied_shortage_cost"] = h.implied_shortage_cost if h.implied_shortage_cost is not None else np.nan
        row["margin"] = h.margin
        saving = get(s, "audit", "saving")
        row["audit_saving_per_year"] = float(saving) * ppy if is_number(saving) else np.nan
        row["scenario_hash"] = get(s, "scenario_hash")
        rows.append(row)
    return pd.DataFrame(rows).set_index("scenario")
