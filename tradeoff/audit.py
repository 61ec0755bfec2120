"""The customer service audit: each SKU's current policy against the recommended one.

Current policies are simulated on exactly the streams that gave the plan's reported (out-of-sample)
figures: the verification seed and replications. Current and recommended are therefore compared under
common random numbers, and the saving is not blurred by sampling noise between two different runs.
SKUs without a `current_policy` stay in the table, marked, with their recommended side filled in.

audit.csv columns: `sku, class, has_current_policy, note`, then the current policy
(`current_family, current_mode, current_s, current_S, current_Q, current_R, current_cap`) and the
recommended one (`recommended_family, ...`), then for every metric and cost bucket of plan.csv the
pair `current_<name>, recommended_<name>`, then `current_fill_rate_ci, current_cost_total_ci`, and
`saving` = current_cost_total - recommended_cost_total (money per period; positive: the plan is cheaper).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scenarios.schema import Scenario
from tradeoff.verify import COSTS, METRICS, POLICY_COLUMNS, Evaluate, aggregate_metrics, verification_seed

PARAMETERS = ["family", "mode", "s", "S", "Q", "R", "cap"]
NO_CURRENT_POLICY = "no current policy in the scenario"


def current_policies(scenario: Scenario) -> pd.DataFrame:
    """The current policies as a policies table (sku, family, mode, s, S, Q, R, cap; NaN where unused);
    a policy without a mode runs on the scenario's first transport mode."""
    rows = []
    for sku in scenario.skus:
        p = sku.current_policy
        if p is None:
            continue
        rows.append({
            "sku": sku.id, "family": p.family, "mode": scenario.mode(p.mode).name,
            "s": p.s, "S": p.S, "Q": p.Q, "R": p.R, "cap": p.cap, "critical_level": 0.0,
        })
    table = pd.DataFrame(rows, columns=POLICY_COLUMNS)
    for c in ("s", "S", "Q", "R", "cap"):
        table[c] = table[c].astype(float)
    return table


def audit_columns() -> list[str]:
    """The columns of audit.csv, in order."""
    cols = ["sku", "class", "has_current_policy", "note"]
    cols += [f"current_{p}" for p in PARAMETERS] + [f"recommended_{p}" for p in PARAMETERS]
    for name in METRICS + COSTS:
        cols += [f"current_{name}", f"recommended_{name}"]
    return cols + ["current_fill_rate_ci", "current_cost_total_ci", "saving"]


def audit(scenario: Scenario, plan: pd.DataFrame, evaluate: Evaluate, replications: int) -> pd.DataFrame:
    """Compare every SKU's current policy with `plan` (plan.csv rows, out-of-sample) per SKU.

    `evaluate(policies, replications, seed)` simulates policies; it is called once, with the
    verification seed and `replications` (those of the plan's verification). Money per period."""
    current = current_policies(scenario)
    if len(current):
        evaluated = evaluate(current, replications, verification_seed(scenario)).reset_index(drop=True)
        evaluated.index = current["sku"].to_numpy()
    else:
        evaluated = pd.DataFrame(columns=POLICY_COLUMNS + METRICS + COSTS + ["fill_rate_ci", "cost_total_ci"])
    ids = [sku.id for sku in scenario.skus]
    rec = plan.set_index("sku").loc[ids]
    # Column by column over all SKUs (a row loop takes seconds per 10,000 SKUs): the current side
    # aligned by id, NaN where a SKU has no current policy.
    has = pd.Index(ids).isin(evaluated.index)
    cur = evaluated[~evaluated.index.duplicated()].reindex(ids)
    columns: dict[str, Any] = {"sku": ids, "class": rec["class"].to_numpy(), "has_current_policy": has,
                               "note": np.where(has, "", NO_CURRENT_POLICY)}
    for p in PARAMETERS:
        columns[f"current_{p}"] = cur[p].to_numpy() if p in cur else np.nan
        columns[f"recommended_{p}"] = rec[p].to_numpy()
    for name in METRICS + COSTS:
        columns[f"current_{name}"] = cur[name].to_numpy(dtype=float, na_value=np.nan)
        columns[f"recommended_{name}"] = rec[name].to_numpy(dtype=float)
    columns["current_fill_rate_ci"] = cur["fill_rate_ci"].to_numpy(dtype=float, na_value=np.nan)
    columns["current_cost_total_ci"] = cur["cost_total_ci"].to_numpy(dtype=float, na_value=np.nan)
    columns["saving"] = columns["current_cost_total"] - columns["recommended_cost_total"]
    table = pd.DataFrame(columns, columns=audit_columns())
    for side in ("current", "recommended"):
        for p in ("s", "S", "Q", "R", "cap"):
            table[f"{side}_{p}"] = table[f"{side}_{p}"].astype(float)
    return table


def audit_summary(table: pd.DataFrame, plan: pd.DataFrame, metric: str) -> dict:
    """Totals of the audit for summary.json, over the SKUs that have a current policy: cost per
    period current vs recommended and the saving, the service metric (demand-weighted) on both
    sides, and the SKUs without a current policy (listed, never silently skipped)."""
    audited = table[table["has_current_policy"]]
    demand = plan.set_index("sku").loc[audited["sku"], "demand_per_period"].to_numpy()
    current = audited.rename(columns={f"current_{m}": m for m in METRICS}).assign(demand_per_period=demand)
    recommended = audited.rename(columns={f"recommended_{m}": m for m in METRICS}).assign(demand_per_period=demand)
    return {
        "skus_audited": int(len(audited)),
        "skus_without_current_policy": table.loc[~table["has_current_policy"], "sku"].tolist(),
        "current_cost_total": float(audited["current_cost_total"].sum()),
        "recommended_cost_total": float(audited["recommended_cost_total"].sum()),
        "saving": float(audited["saving"].sum()),
        "metric": metric,
        "current_service": aggregate_metrics(current)[metric] if len(audited) else None,
        "recommended_service": aggregate_metrics(recommended)[metric] if len(audited) else None,
    }
