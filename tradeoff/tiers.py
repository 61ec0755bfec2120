"""The recommended plan's figures per customer tier (docs/tiers.md): tiers.csv and summary.json's
`tiers`.

verify() keeps the out-of-sample per-tier columns (t{k}_<metric>, simulation.metrics.TIER_METRICS)
on the plan rows; this module turns them into the long table (one row per SKU and tier) and the
demand-weighted figures per tier, and strips them from plan.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.schema import Scenario
from simulation.metrics import TIER_METRICS, tier_column, tier_columns

# Rates averaged by demand over SKUs; the other figures add up.
_ADDITIVE = ("demand_per_period", "customers_lost", "cost_shortage")
_SERVICE = ("fill_rate", "order_fill_rate", "on_time_rate")  # 1 when a tier asks for nothing


def tier_demand_models(scenario: Scenario, sku_ids) -> list[tuple[str, ...]]:
    """Per SKU id, each tier's demand model in words, top tier first: its own model's `dist`
    (customer_tiers.demand own), "none" for a tier its tier_demand leaves out, or "thinned" (the
    SKU's demand split by the tier's share)."""
    by_id = {s.id: s for s in scenario.skus}
    names = scenario.tier_names()
    out = []
    for sku_id in sku_ids:
        sku = by_id.get(sku_id)
        own = scenario.tier_demands(sku) if sku is not None else None
        if own is None:
            out.append(("thinned",) * len(names))
        else:
            out.append(tuple(d.dist if name in sku.tier_demand else "none" for name, d in zip(names, own)))
    return out


def tier_table(scenario: Scenario, plan: pd.DataFrame) -> pd.DataFrame | None:
    """tiers.csv: columns sku, tier, demand_model (tier_demand_models), then TIER_METRICS (money per
    period), SKUs in plan order, tiers top first; None without tiers."""
    if scenario.tier_count() <= 1:
        return None
    names = scenario.tier_names()
    models = tier_demand_models(scenario, plan["sku"])
    parts = []
    for k, name in enumerate(names):
        part = pd.DataFrame({"sku": plan["sku"].to_numpy(object), "tier": name,
                             "demand_model": pd.Series([m[k] for m in models], dtype=object)})
        for metric in TIER_METRICS:
            part[metric] = plan[tier_column(k, metric)].to_numpy(float)
        part["_order"] = np.arange(len(plan)) * len(names) + k
        parts.append(part)
    table = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def tier_summary(scenario: Scenario, tiers: pd.DataFrame | None, checks) -> list[dict] | None:
    """Per tier (top first): demand per period, demand-weighted rates, summed counts and shortage
    cost per period, its floor and whether the out-of-sample check met it; None without tiers."""
    if tiers is None:
        return None
    met = {c.rule: c.met for c in checks}
    out = []
    for k, tier in enumerate(scenario.customer_tiers.tiers):
        rows = tiers[tiers["tier"] == tier.name]
        d = rows["demand_per_period"].to_numpy(float)
        entry: dict = {"tier": tier.name, "allocation": scenario.customer_tiers.allocation}
        for metric in TIER_METRICS:
            values = rows[metric].to_numpy(float)
            if metric in _ADDITIVE:
                entry[metric] = float(values.sum())
            elif d.sum() > 0:
                entry[metric] = float((values * d).sum() / d.sum())
            else:  # a tier without demand: nothing asked, nothing missed, no order cycle
                entry[metric] = 1.0 if metric in _SERVICE else 0.0
        entry["floor"] = tier.floor
        entry["floor_met"] = met.get(f"customer_tiers.tiers[{k}].floor") if tier.floor is not None else None
        out.append(entry)
    return out


def without_tier_columns(scenario: Scenario, plan: pd.DataFrame) -> pd.DataFrame:
    """plan.csv's rows without the per-tier columns (they go to tiers.csv)."""
    drop = [c for c in tier_columns(scenario.tier_count()) if c in plan.columns]
    return plan.drop(columns=drop) if drop else plan
