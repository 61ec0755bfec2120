"""Raw counters -> service metrics, cost buckets per period, 95 % half-widths (docs/simulation.md).

Both engines return the same raw counters; this one module turns them into the columns of plan.csv
(docs/outputs.md), so equal counters always mean equal results. Each metric is computed per
replication, then averaged; its half-width is t(0.975, n-1) * sd / sqrt(n) over the n replications.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special  # not scipy.stats: that import alone costs ~2 s in every process and worker server

from scenarios.schema import Scenario, Sku
from simulation.counters import INDEX, N_COUNTERS, N_TIER_COUNTERS, TIER_INDEX

METRIC_COLUMNS = (
    "fill_rate",
    "cycle_service_level",
    "order_fill_rate",
    "stockout_frequency",
    "order_cycle_mean",
    "order_cycle_sd",
    "on_time_rate",
    "backorder_rate",
    "substitution_rate",
    "lost_sales_rate",
    "customers_lost",
    "avg_on_hand",
    "avg_in_transit",
)
COST_COLUMNS = (
    "cost_carrying",
    "cost_ordering",
    "cost_order_processing",
    "cost_transport",
    "cost_warehousing",
    "cost_shortage",
    "cost_total",
)
CI_COLUMNS = tuple(f"{c}_ci" for c in METRIC_COLUMNS + COST_COLUMNS)
EXTRA_COLUMNS = ("demand_per_period", "orders_per_period", "vehicles_per_period", "inventory_value", "replications",
                 "expedite_shipments_per_period", "expedite_units_per_period")
SUMMARY_COLUMNS = METRIC_COLUMNS + COST_COLUMNS + CI_COLUMNS + EXTRA_COLUMNS
# critical_level: the lowest customer tier's critical level (docs/tiers.md), 0 without rationing.
POLICY_COLUMNS = ("sku", "family", "mode", "s", "S", "Q", "R", "cap", "critical_level")
EVALUATION_COLUMNS = POLICY_COLUMNS + SUMMARY_COLUMNS  # the columns of simulation.evaluate, in order
# Per customer tier k (docs/tiers.md), columns t{k}_<name>: means over replications, no half-width.
TIER_METRICS = (
    "demand_per_period",
    "fill_rate",
    "order_fill_rate",
    "order_cycle_mean",
    "order_cycle_sd",
    "on_time_rate",
    "backorder_rate",
    "substitution_rate",
    "lost_sales_rate",
    "customers_lost",
    "cost_shortage",
)


def tier_column(k: int, name: str) -> str:
    """The column of tier k's (0 = top) metric `name`."""
    return f"t{k}_{name}"


def tier_columns(n_tiers: int) -> tuple[str, ...]:
    """Every per-tier column of a scenario with n_tiers tiers (none with one tier)."""
    return () if n_tiers <= 1 else tuple(tier_column(k, m) for k in range(n_tiers) for m in TIER_METRICS)


def summary_columns(scenario: Scenario) -> tuple[str, ...]:
    """The summary columns `summarize` returns for this scenario: SUMMARY_COLUMNS, then the tiers'."""
    return SUMMARY_COLUMNS + tier_columns(scenario.tier_count())


def evaluation_columns(scenario: Scenario) -> tuple[str, ...]:
    """The columns of simulation.evaluate for this scenario: the policy, then the summary (with tiers,
    the tiers' columns after it)."""
    return POLICY_COLUMNS + summary_columns(scenario)


def _ratio(num: np.ndarray, den: np.ndarray, when_empty: float) -> np.ndarray:
    """num / den, with `when_empty` where den is 0 (1 for service: nothing was asked; 0 for shares)."""
    out = np.full(np.broadcast(num, den).shape, when_empty, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def candidate_modes(scenario: Scenario, n: int, modes=None) -> np.ndarray:
    """Each candidate's transport mode index: from `modes` (PolicyArrays or int array), or the only
    mode of a single-mode scenario. Needed because transport cost depends on the mode."""
    if modes is None:
        if len(scenario.transport) > 1:
            raise ValueError("summarize needs each candidate's mode (modes=PolicyArrays) when the scenario has several modes")
        return np.zeros(n, np.int64)
    modes = np.asarray(getattr(modes, "mode", modes), dtype=np.int64)
    if modes.shape != (n,):
        raise ValueError(f"modes has shape {modes.shape}, expected ({n},)")
    return modes


def _sku_rates(scenario: Scenario, sku: Sku) -> tuple:
    """The SKU's own money rates per_replication uses: holding, in-transit holding, lost sale and
    substitution per unit, unit cost; with tiers also each tier's lost sale per unit and cost per
    customer lost (float64[K] each)."""
    rates = (scenario.holding_per_unit_period(sku), scenario.in_transit_per_unit_period(sku),
             scenario.lost_sale_per_unit(sku), scenario.substitution_per_unit(sku), sku.unit_cost)
    if scenario.tier_count() > 1:
        rates += (np.array(scenario.tier_lost_sale_per_unit(sku)), np.array(scenario.tier_lost_customer()))
    return rates


def per_replication(counters: np.ndarray, scenario: Scenario, sku: Sku, modes=None) -> dict[str, np.ndarray]:
    """Every metric, cost bucket and extra column per candidate and replication ([n, reps] arrays).
    `modes`: each candidate's mode (PolicyArrays or mode indices); may be omitted with one mode."""
    return _per_replication(counters, scenario, _sku_rates(scenario, sku), candidate_modes(scenario, counters.shape[0], modes))


def _per_replication(counters: np.ndarray, scenario: Scenario, rates: tuple, modes: np.ndarray) -> dict[str, np.ndarray]:
    """per_replication with the SKU's rates (_sku_rates: numbers, or [n, 1] arrays of each
    candidate's SKU's, so that candidates of many SKUs go at once) and mode indices given. Every
    operation is elementwise per candidate and replication, so a number and an array holding it
    give the same bits."""
    h, h_transit, lost_sale, substitution, unit_cost = rates[:5]
    # Each counter as its own contiguous [n, reps] array: one transposing copy, after which every
    # elementwise operation below reads contiguous memory instead of a stride of one counter row
    # (the same values, so the same bits).
    columns = np.ascontiguousarray(np.moveaxis(counters[..., :N_COUNTERS], -1, 0))
    c = {name: columns[k] for name, k in INDEX.items()}
    P = float(scenario.horizon.periods)
    costs = scenario.costs
    demand = c["demand_units"]
    completed = c["completed_orders"]
    m: dict[str, np.ndarray] = {}
    m["fill_rate"] = _ratio(c["filled_units"], demand, 1.0)
    m["cycle_service_level"] = 1.0 - _ratio(c["cycles_with_stockout"], c["cycles"], 0.0)
    m["order_fill_rate"] = _ratio(c["orders_complete_at_once"], c["customer_orders"], 1.0)
    m["stockout_frequency"] = c["stockout_periods"] / P
    mean_ct = _ratio(c["cycle_time_sum"], completed, 0.0)
    m["order_cycle_mean"] = mean_ct
    m["order_cycle_sd"] = np.sqrt(np.maximum(_ratio(c["cycle_time_sq_sum"], completed, 0.0) - mean_ct**2, 0.0))
    m["on_time_rate"] = _ratio(c["on_time_orders"], c["customer_orders"], 1.0)
    m["backorder_rate"] = _ratio(c["backordered_units"], demand, 0.0)
    m["substitution_rate"] = _ratio(c["substituted_units"], demand, 0.0)
    m["lost_sales_rate"] = _ratio(c["lost_units"], demand, 0.0)
    m["customers_lost"] = c["customers_lost"].astype(np.float64)
    m["avg_on_hand"] = c["on_hand_sum"] / P
    m["avg_in_transit"] = c["in_transit_sum"] / P

    m["cost_carrying"] = (h * c["on_hand_sum"] + h_transit * c["in_transit_sum"]) / P
    m["cost_ordering"] = costs.order_cost * c["replenishment_orders"] / P
    m["cost_order_processing"] = costs.order_processing * (c["customer_orders"] + c["backordered_orders"]) / P
    m["cost_transport"] = _transport_cost(c, scenario, modes) / P
    m["cost_warehousing"] = costs.warehousing.per_unit_period * c["on_hand_sum"] / P
    if counters.shape[-1] > N_COUNTERS:  # customer tiers: each with its own costs, the SKU's their sum
        tiers = _tier_metrics(counters, scenario, rates)
        m.update(tiers)
        n_tiers = (counters.shape[-1] - N_COUNTERS) // N_TIER_COUNTERS
        m["cost_shortage"] = sum(tiers[tier_column(k, "cost_shortage")] for k in range(n_tiers))
    else:
        m["cost_shortage"] = (
            lost_sale * c["lost_units"]
            + substitution * c["substituted_units"]
            + costs.backorder_per_unit * c["backordered_units"]
            + costs.backorder_per_unit_period * c["backlog_sum"]
            + costs.lost_customer * c["customers_lost"]
        ) / P
    m["cost_total"] = sum(m[k] for k in COST_COLUMNS[:-1])

    m["demand_per_period"] = demand / P
    m["orders_per_period"] = c["replenishment_orders"] / P
    m["vehicles_per_period"] = c["vehicles"] / P
    m["expedite_shipments_per_period"] = c["expedite_shipments"] / P
    m["expedite_units_per_period"] = c["expedite_units"] / P
    m["inventory_value"] = m["avg_on_hand"] * unit_cost
    return m


def _tier_metrics(counters: np.ndarray, scenario: Scenario, rates: tuple) -> dict[str, np.ndarray]:
    """Each tier's TIER_METRICS ([n, reps] arrays, columns t{k}_<name>) from its counters block;
    rates[5], rates[6]: each tier's lost sale per unit and cost per customer lost (float64[K], or
    [n, K] per candidate)."""
    P = float(scenario.horizon.periods)
    costs = scenario.costs
    substitution = rates[3]
    lost_sale, lost_customer = np.asarray(rates[5]), np.asarray(rates[6])
    n_tiers = (counters.shape[-1] - N_COUNTERS) // N_TIER_COUNTERS
    out: dict[str, np.ndarray] = {}
    for k in range(n_tiers):
        base = N_COUNTERS + k * N_TIER_COUNTERS
        c = {name: counters[..., base + j] for name, j in TIER_INDEX.items()}
        ls = lost_sale[..., k:k + 1] if lost_sale.ndim == 2 else lost_sale[k]
        lc = lost_customer[..., k:k + 1] if lost_customer.ndim == 2 else lost_customer[k]
        demand, completed = c["demand_units"], c["completed_orders"]
        mean_ct = _ratio(c["cycle_time_sum"], completed, 0.0)
        values = {
            "demand_per_period": demand / P,
            "fill_rate": _ratio(c["filled_units"], demand, 1.0),
            "order_fill_rate": _ratio(c["orders_complete_at_once"], c["customer_orders"], 1.0),
            "order_cycle_mean": mean_ct,
            "order_cycle_sd": np.sqrt(np.maximum(_ratio(c["cycle_time_sq_sum"], completed, 0.0) - mean_ct**2, 0.0)),
            "on_time_rate": _ratio(c["on_time_orders"], c["customer_orders"], 1.0),
            "backorder_rate": _ratio(c["backordered_units"], demand, 0.0),
            "substitution_rate": _ratio(c["substituted_units"], demand, 0.0),
            "lost_sales_rate": _ratio(c["lost_units"], demand, 0.0),
            "customers_lost": c["customers_lost"].astype(np.float64),
            "cost_shortage": (ls * c["lost_units"] + substitution * c["substituted_units"]
                              + costs.backorder_per_unit * c["backordered_units"]
                              + costs.backorder_per_unit_period * c["backlog_sum"]
                              + lc * c["customers_lost"]) / P,
        }
        out.update({tier_column(k, name): v for name, v in values.items()})
    return out


def _transport_cost(c: dict, scenario: Scenario, modes: np.ndarray) -> np.ndarray:
    """Transport money over the counted horizon: the candidate's mode (per vehicle, per unit) plus
    expedite shipments at the expedite mode's rates. `modes` holds each candidate's mode index."""
    per_vehicle = np.array([m.cost_per_shipment for m in scenario.transport], dtype=np.float64)[modes][:, None]
    per_unit = np.array([m.cost_per_unit for m in scenario.transport], dtype=np.float64)[modes][:, None]
    money = per_vehicle * c["vehicles"] + per_unit * c["replenishment_units"]
    if scenario.expedite is not None:
        e = scenario.mode(scenario.expedite.mode)
        money = money + e.cost_per_shipment * c["expedite_shipments"] + e.cost_per_unit * c["expedite_units"]
    return money


@lru_cache(maxsize=None)
def _t975(dof: int) -> float:
    """t(0.975, dof), computed once per number of replications. `special.stdtrit` is what
    scipy.stats.t.ppf evaluates (t._ppf), so the value is the same to the last bit."""
    return float(special.stdtrit(dof, 0.975))


def half_width(x: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """95 % half-width over the last axis (replications): t(0.975, n-1) * sd / sqrt(n); 0 when n = 1.
    `mean`: x.mean(axis=-1, keepdims=True) when the caller has it already; numpy's std then skips
    its own sum, which is that same mean (sum / n over the same axis), so the bits do not change."""
    n = x.shape[-1]
    if n < 2:
        return np.zeros(x.shape[:-1])
    return _t975(n - 1) * x.std(axis=-1, ddof=1, mean=mean) / np.sqrt(n)


def summarize(counters: np.ndarray, scenario: Scenario, sku: Sku, modes=None) -> dict[str, np.ndarray]:
    """Per candidate: every metric and cost column of plan.csv (mean over replications), a `<name>_ci`
    95 % half-width for each, and the extra columns (SUMMARY_COLUMNS order). `counters` is
    float64[candidates, replications, N_COUNTERS]; `modes` each candidate's mode (PolicyArrays or
    indices into scenario.transport), needed when the scenario has more than one mode."""
    counters = _checked(counters)
    return _summary(counters, _per_replication(counters, scenario, _sku_rates(scenario, sku),
                                               candidate_modes(scenario, counters.shape[0], modes)))


def summarize_many(parts: list[tuple[np.ndarray, Sku, object]], scenario: Scenario) -> dict[str, np.ndarray]:
    """`summarize` of each (counters, sku, modes) part, the parts' rows one after the other, computed
    at once: the same numbers to the last bit (each SKU's rates become a column of per-candidate
    values; every operation is elementwise per candidate, and every mean and half-width a reduction
    over one candidate's own replications), without numpy's fixed cost per call paid per SKU. The
    parts must have the same number of replications."""
    if len(parts) == 1:
        counters, sku, modes = parts[0]
        return summarize(counters, scenario, sku, modes=modes)
    blocks = [_checked(counters) for counters, _, _ in parts]
    if len({b.shape[1] for b in blocks}) > 1:
        raise ValueError("summarize_many needs the same number of replications in every part")
    sizes = [b.shape[0] for b in blocks]
    rates = [_sku_rates(scenario, sku) for _, sku, _ in parts]
    columns = tuple(np.repeat(np.array([r[k] for r in rates], dtype=np.float64), sizes)[:, None] for k in range(5))
    if len(rates[0]) > 5:  # the tiers' rates: [n, K] per candidate
        columns += tuple(np.repeat(np.array([r[k] for r in rates], dtype=np.float64), sizes, axis=0)
                         for k in range(5, len(rates[0])))
    modes = np.concatenate([candidate_modes(scenario, n, m) for n, (_, _, m) in zip(sizes, parts)])
    counters = np.concatenate(blocks, axis=0)
    return _summary(counters, _per_replication(counters, scenario, columns, modes))


def _checked(counters) -> np.ndarray:
    counters = np.asarray(counters, dtype=np.float64)
    if counters.ndim != 3 or counters.shape[2] < len(INDEX) or (counters.shape[2] - len(INDEX)) % N_TIER_COUNTERS:
        raise ValueError(f"counters must be [candidates, replications, {len(INDEX)} (+ {N_TIER_COUNTERS} per tier)], "
                         f"got {counters.shape}")
    return counters


def _summary(counters: np.ndarray, per_rep: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # One [columns, candidates, replications] block: one mean and one half-width call for all
    # columns (each reduction runs over the same contiguous replications, so the numbers are those
    # of one call per column).
    # The block's means serve the half-widths too (half_width(mean=...)): one sum per column, not two.
    names = METRIC_COLUMNS + COST_COLUMNS
    block = np.stack([per_rep[name] for name in names])
    means = block.mean(axis=2, keepdims=True)
    cis = half_width(block, mean=means)
    out: dict[str, np.ndarray] = {}
    for k, name in enumerate(names):
        out[name] = means[k, :, 0]
        out[f"{name}_ci"] = cis[k]
    # Columns with a mean only (extras, tiers'): one mean call over their stacked block, as above.
    n_tiers = (counters.shape[2] - N_COUNTERS) // N_TIER_COUNTERS
    mean_only = [name for name in EXTRA_COLUMNS if name != "replications"] + list(tier_columns(n_tiers))
    mean_only_means = np.stack([per_rep[name] for name in mean_only]).mean(axis=2)
    out.update(zip(mean_only, mean_only_means))
    out["replications"] = np.full(counters.shape[0], counters.shape[1], dtype=np.int64)
    return {name: out[name] for name in SUMMARY_COLUMNS + tier_columns(n_tiers)}
