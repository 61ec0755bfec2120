"""Prices of the coupling rules: what the selection's LP relaxation says one more unit of each rule is
worth, so that a SKU's candidates can be compared alone, away from the other SKUs.

Lagrangian relaxation of the selection model (optimizer.select; Fisher 1981, "The Lagrangian
relaxation method for solving integer programming problems", Management Science 27(1)): with the
coupling rows `sum_j coef_rj x_j >= rhs_r` priced at their LP duals y_r >= 0, the problem falls apart
into one problem per SKU, choose the candidate of least reduced cost

    cost_j - sum_r y_r coef_rj

(cost: cost_total in cost-optimal mode, logistics cost with a target). The service rows read
d_j (m_j - level) / D_r (D_r the demand per period the row is scaled by: all SKUs for the target,
the class's SKUs for a class floor), the limits -use_j. At the LP relaxation's optimum every SKU's
choice is price-optimal, except at most one SKU per binding row (split between two candidates);
the integer plan may differ from the price-optimal choice at a few more SKUs, but the sum of its
reduced-cost slacks is at most the duality gap (tests/optimizer/test_prices.py).

`Prices` is what the run's head sends to the SKU-chunk tasks (tradeoff.search): a few numbers per
rule, never a candidate table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.problem import limit_columns, tier_floors
from scenarios.schema import Scenario

TARGET_RULE = "service.target"
FLOOR_PREFIX = "service.floors."


@dataclass(frozen=True)
class Prices:
    """The price of each coupling rule for one plan (one level of the exchange curve).

    objective: "total" (cost_total; cost-optimal) or "logistics" (cost_total - cost_shortage);
    metric: the service metric of the service rules; service: (class or None for the aggregate
    target, level, price per unit of d * (metric - level)), cost per period per unit of demand-weighted
    service, i.e. the dual over the row's demand scale; limits: (rule as the YAML path, price per unit
    of the resource per period)."""

    objective: str
    metric: str
    service: tuple[tuple[str | None, float, float], ...] = ()
    limits: tuple[tuple[str, float], ...] = ()
    # (demand column, metric column, level, price) of each customer tier floor (docs/tiers.md): the
    # row reads d_k (m_k - level) / D_k, priced like a class floor over the tier's demand D_k.
    tiers: tuple[tuple[str, str, float, float], ...] = ()

    @classmethod
    def from_duals(cls, objective: str, metric: str, duals: Mapping[str, float], target: float | None,
                   floors: Mapping[str, float], demand_total: float, class_demand: Mapping[str, float],
                   tier_scenario: Scenario | None = None, tier_demand: Mapping[str, float] | None = None,
                   target_columns: tuple[str, str] | None = None, target_demand: float | None = None) -> Prices:
        """The prices of a solved selection: `duals` rule -> LP dual (optimizer.Plan.duals), the target
        and class floors it was solved with, and the demand scales of its service rows
        (optimizer.problem.Prepared.demand_total and extra["class_demand"])."""
        service: list[tuple[str | None, float, float]] = []
        limits: list[tuple[str, float]] = []
        D = float(demand_total) or 1.0
        tier_rules = {rule: (level, d_col, m_col) for rule, level, d_col, m_col in
                      (tier_floors(tier_scenario) if tier_scenario is not None else [])}
        tiers: list[tuple[str, str, float, float]] = []
        for rule, dual in duals.items():
            if rule in tier_rules:
                level, d_col, m_col = tier_rules[rule]
                scale = float((tier_demand or {}).get(rule, D)) or D
                tiers.append((d_col, m_col, level, float(dual) / scale))
            elif rule == TARGET_RULE and target is not None and target_columns is not None:
                # A target on one tier's level (service.frontier_tier): priced like a tier floor.
                scale = float(target_demand or D) or D
                tiers.append((target_columns[0], target_columns[1], float(target), float(dual) / scale))
            elif rule == TARGET_RULE and target is not None:
                service.append((None, float(target), float(dual) / D))
            elif rule.startswith(FLOOR_PREFIX):
                cls_ = rule[len(FLOOR_PREFIX):]
                scale = float(class_demand.get(cls_, D)) or D
                service.append((cls_, float(floors[cls_]), float(dual) / scale))
            elif not rule.startswith("service."):
                limits.append((rule, float(dual)))
        return cls(objective, metric, tuple(service), tuple(limits), tuple(tiers))

    def reduced_cost(self, scenario: Scenario, evaluations: pd.DataFrame, classes: np.ndarray) -> np.ndarray:
        """Reduced cost per row of `evaluations` (cost per period; `classes`: each row's SKU class)."""
        score = evaluations["cost_total"].to_numpy(float).copy()
        if self.objective == "logistics":
            score -= evaluations["cost_shortage"].to_numpy(float)
        if self.service:
            d = evaluations["demand_per_period"].to_numpy(float)
            m = evaluations[self.metric].to_numpy(float)
            for cls_, level, price in self.service:
                if price == 0.0:
                    continue
                part = price * d * (m - level)
                score -= part if cls_ is None else np.where(classes == cls_, part, 0.0)
        for d_col, m_col, level, price in self.tiers:
            if price != 0.0:
                score -= price * evaluations[d_col].to_numpy(float) * (evaluations[m_col].to_numpy(float) - level)
        if any(price != 0.0 for _, price in self.limits):
            use = {name: col for name, col, _ in limit_columns(scenario, evaluations)}
            for rule, price in self.limits:
                if price != 0.0 and rule in use:
                    score += price * use[rule]
        return score

    def half_width(self, evaluations: pd.DataFrame, classes: np.ndarray) -> np.ndarray:
        """A 95 % half-width of reduced_cost per row: cost_total's plus the service prices times d times
        the metric's (half-widths add: conservative, the table holds unpaired half-widths only)."""
        ci = np.nan_to_num(evaluations["cost_total_ci"].to_numpy(float)) if "cost_total_ci" in evaluations \
            else np.zeros(len(evaluations))
        column = f"{self.metric}_ci"
        if self.service and column in evaluations:
            d = evaluations["demand_per_period"].to_numpy(float)
            m_ci = np.nan_to_num(evaluations[column].to_numpy(float))
            for cls_, _, price in self.service:
                part = abs(price) * d * m_ci
                ci = ci + (part if cls_ is None else np.where(classes == cls_, part, 0.0))
        return ci
