"""Out-of-sample verification: the chosen plan re-simulated on fresh random streams.

The selection picks, among many candidates, the ones whose simulated cost happened to come out low,
so the in-sample figures of the chosen plan are biased low (and its service biased high). The plan's
reported metrics and costs are therefore those of a fresh simulation: same policies, seed
`scenario.seed + VERIFY_SEED_OFFSET`, at least as many replications as the selection used. Every
service rule is checked again on these figures, and a rule missed out of sample is flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from scenarios.schema import Scenario
from simulation.metrics import COST_COLUMNS, METRIC_COLUMNS
from optimizer.candidates import policy_part
from optimizer.problem import tier_floors
from simulation.metrics import POLICY_COLUMNS as _POLICY
from simulation.metrics import tier_columns

# Fixed (it is reported in summary.json as verification.seed): changing it changes every reported
# figure. A different seed gives unrelated streams for every (sku, replication, purpose).
VERIFY_SEED_OFFSET = 1_000_003

POLICY_COLUMNS = list(_POLICY)
METRICS = list(METRIC_COLUMNS)
COSTS = list(COST_COLUMNS)
# plan.csv, in the order of docs/outputs.md; the columns after PLAN_COLUMNS are additions.
PLAN_COLUMNS = ["sku", "class", "family", "mode", "s", "S", "Q", "R", "cap", *METRICS, *COSTS, "fill_rate_ci", "cost_total_ci"]
PLAN_EXTRA_COLUMNS = ["demand_per_period", "inventory_value", "vehicles_per_period", "replications", "service_floor_met",
                      "cost_total_in_sample", "service_in_sample", "note"]
# With an expedite mode (scenario `expedite`), after vehicles_per_period: the expedited shipments and
# units per period of each SKU's plan (out of sample).
EXPEDITE_COLUMNS = ["expedite_shipments_per_period", "expedite_units_per_period"]
# plan.csv `note` of a SKU with demand whose policy placed no replenishment order in any replication
# of the verification: its service is that of its starting stock, not of the long run.
NEVER_ORDERED = ("no replenishment order inside the horizon: its service figures are those of its starting stock, "
                 "not of the long run (lengthen horizon.periods)")

# Measures that add up over SKUs (counts, units); every other metric is a rate, averaged by demand.
ADDITIVE_METRICS = ("customers_lost", "avg_on_hand", "avg_in_transit")

Evaluate = Callable[[pd.DataFrame, int, int], pd.DataFrame]  # (policies, replications, seed) -> evaluations


def verification_seed(scenario: Scenario) -> int:
    """The seed of the out-of-sample streams: scenario.seed + 1,000,003 (wrapped into the seed range)."""
    return (int(scenario.seed) + VERIFY_SEED_OFFSET) % 2**63


def demand_weighted(values: pd.Series, demand: pd.Series) -> float:
    """Demand-weighted mean of a per-SKU measure (a plain mean when there is no demand at all)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(demand, dtype=float)
    if w.sum() > 0:
        return float((v * w).sum() / w.sum())
    return float(v.mean()) if len(v) else float("nan")


def aggregate_metrics(table: pd.DataFrame) -> dict[str, float]:
    """Every metric over the SKUs of `table`: demand-weighted means of the rates and times, sums of
    customers_lost, avg_on_hand and avg_in_transit (units)."""
    out = {}
    for m in METRICS:
        if m in ADDITIVE_METRICS:
            out[m] = float(table[m].sum())
        else:
            out[m] = demand_weighted(table[m], table["demand_per_period"])
    return out


@dataclass(frozen=True)
class RuleCheck:
    """One rule checked on the out-of-sample figures: `rule` is its YAML path (service.target,
    service.floors.A, service.sku_floor[<sku>], budget.inventory_value, costs.warehousing.capacity_units,
    transport[k].capacity_per_period); `metric` what is compared (the service metric, or for a limit
    inventory_value, avg_on_hand, vehicles_per_period); `required` the level (a floor for service, a
    cap for limits), `achieved` the plan's figure, `met` whether it keeps the rule; `kind` "service"
    (achieved must be >= required) or "limit" (achieved must be <= required, money or units per period)."""

    rule: str
    metric: str
    required: float
    achieved: float
    met: bool
    kind: str = "service"

    def as_dict(self) -> dict:
        return asdict(self)


def check_rules(scenario: Scenario, plan: pd.DataFrame, target: float | None) -> list[RuleCheck]:
    """Check the aggregate target, each class floor, the SKU floor (service at least the level) and
    each limit the scenario sets (at most the cap) on `plan`: one row per SKU with `class`, `mode`,
    `demand_per_period`, the service metric, avg_on_hand, inventory_value and vehicles_per_period.
    Aggregates are demand-weighted; limits are sums over SKUs (averages per period), as the optimiser
    states them."""
    metric = scenario.service.metric
    checks = []
    tol = 1e-12

    def floor(rule, required, achieved):
        checks.append(RuleCheck(rule, metric, float(required), float(achieved), bool(achieved >= required - tol)))

    def cap(rule, measure, limit, used):
        checks.append(RuleCheck(rule, measure, float(limit), float(used), bool(used <= limit * (1 + tol)), "limit"))

    if target is not None:
        floor("service.target", target, demand_weighted(plan[metric], plan["demand_per_period"]))
    for cls, level in sorted(scenario.service.floors.items()):
        rows = plan[plan["class"] == cls]
        if len(rows):
            floor(f"service.floors.{cls}", level, demand_weighted(rows[metric], rows["demand_per_period"]))
    for rule, level, d_col, m_col in tier_floors(scenario):
        if m_col in plan.columns:
            floor(rule, level, demand_weighted(plan[m_col], plan[d_col]))
    if scenario.service.sku_floor is not None:
        for row in plan.itertuples(index=False):
            floor(f"service.sku_floor[{row.sku}]", scenario.service.sku_floor, getattr(row, metric))
    if scenario.budget.inventory_value is not None:
        cap("budget.inventory_value", "inventory_value", scenario.budget.inventory_value, plan["inventory_value"].sum())
    if scenario.costs.warehousing.capacity_units is not None:
        cap("costs.warehousing.capacity_units", "avg_on_hand", scenario.costs.warehousing.capacity_units,
            plan["avg_on_hand"].sum())
    for k, mode in enumerate(scenario.transport):
        if mode.capacity_per_period is not None:
            used = plan.loc[plan["mode"] == mode.name, "vehicles_per_period"].sum()
            cap(f"transport[{k}].capacity_per_period", "vehicles_per_period", mode.capacity_per_period, used)
    return checks


def verification_replications(scenario: Scenario, selection_replications: int) -> int:
    """Replications of the verification run: as many as the most replicated candidate of the selection."""
    return max(int(scenario.replications), int(selection_replications))


def verify(scenario: Scenario, choice: pd.DataFrame, evaluate: Evaluate, replications: int,
           target: float | None) -> tuple[pd.DataFrame, list[RuleCheck]]:
    """Re-simulate the chosen policies (`choice`: the optimiser's rows, one per SKU, with `class`) on
    fresh streams and return (plan, checks): plan has the plan.csv columns with out-of-sample metrics
    and costs per period, then demand_per_period, replications, service_floor_met (the SKU meets
    service.sku_floor out of sample; true without one), cost_total_in_sample and service_in_sample
    (the selection's own figures, to show the bias), inventory_value and vehicles_per_period (for
    the limits); checks are every rule and limit on the fresh figures."""
    policies = policy_part(choice).reset_index(drop=True)
    fresh = evaluate(policies, replications, verification_seed(scenario)).reset_index(drop=True)
    plan = fresh.copy()
    plan.insert(1, "class", choice["class"].to_numpy())
    metric = scenario.service.metric
    floor = scenario.service.sku_floor
    plan["service_floor_met"] = True if floor is None else (plan[metric] >= floor - 1e-12)
    plan["cost_total_in_sample"] = choice["cost_total"].to_numpy()
    plan["service_in_sample"] = choice[metric].to_numpy()
    plan["note"] = never_ordered_notes(fresh)
    plan = plan[plan_columns(scenario)].reset_index(drop=True)
    return plan, check_rules(scenario, plan, target)


def never_ordered_notes(evaluations: pd.DataFrame):
    """plan.csv's `note` per row (a text array, as plan.csv reads back): NEVER_ORDERED where the SKU
    has demand but its policy placed no replenishment order (orders_per_period 0 over every
    replication), else missing (an empty cell).
    Such a plan lives off its starting stock, so a fill rate of 1 there says nothing about the long
    run."""
    never = (evaluations["orders_per_period"].to_numpy(dtype=float) == 0) & \
        (evaluations["demand_per_period"].to_numpy(dtype=float) > 0)
    return pd.array(np.where(never, NEVER_ORDERED, None).astype(object), dtype="str")


def never_ordered_warning(plan: pd.DataFrame) -> str | None:
    """One warning line naming the plan's SKUs whose note is NEVER_ORDERED (None when there is none)."""
    if "note" not in plan.columns:
        return None
    skus = plan.loc[plan["note"] == NEVER_ORDERED, "sku"].astype(str).tolist()
    if not skus:
        return None
    shown = ", ".join(skus[:10]) + (f" and {len(skus) - 10} more" if len(skus) > 10 else "")
    return (f"{len(skus)} SKU{'s' if len(skus) != 1 else ''} ({shown}) placed no replenishment order inside the "
            "verification horizon: their service figures are those of their starting stock, not of the long run "
            "(plan.csv note; lengthen horizon.periods)")


def plan_extra_columns(scenario: Scenario) -> list[str]:
    """PLAN_EXTRA_COLUMNS, with EXPEDITE_COLUMNS after vehicles_per_period when the scenario has an
    expedite mode."""
    extra = list(PLAN_EXTRA_COLUMNS)
    if scenario.expedite is not None:
        k = extra.index("vehicles_per_period") + 1
        extra[k:k] = EXPEDITE_COLUMNS
    return extra


def plan_columns(scenario: Scenario) -> list[str]:
    """The columns verify() returns: PLAN_COLUMNS and PLAN_EXTRA_COLUMNS (with EXPEDITE_COLUMNS when
    the scenario has `expedite`); with customer tiers also critical_level (after cap) and the per-tier
    columns (tradeoff.tiers moves them to tiers.csv)."""
    if scenario.tier_count() <= 1:
        return PLAN_COLUMNS + plan_extra_columns(scenario)
    columns = list(PLAN_COLUMNS)
    columns.insert(columns.index("cap") + 1, "critical_level")
    return columns + plan_extra_columns(scenario) + list(tier_columns(scenario.tier_count()))
