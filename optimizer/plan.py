"""The optimiser's answer: one chosen candidate per SKU, with the solver's word on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


class SolveStatus(str, enum.Enum):
    """How the selection solve ended (a str enum: `status.value` goes into summary.json)."""

    optimal = "optimal"  # proven optimal within scenario.solver.mip_gap
    time_limit = "time_limit"  # stopped by the time limit with a feasible plan; see Plan.gap
    infeasible = "infeasible"  # no plan meets the rules (raised as InfeasibleError, never in a Plan)
    time_limit_no_plan = "time_limit_no_plan"  # the time limit struck before any feasible plan was found
    # (raised as SolverTimeLimitError, never in a Plan)
    error = "error"  # the solver failed without a usable plan (a bug or a solver problem)


@dataclass
class Plan:
    """One candidate per SKU and what it costs and delivers.

    choice: the chosen evaluation rows, one per SKU in scenario SKU order, every evaluation column plus
        `class`; status: SolveStatus; gap: relative MIP gap of the plan (0 when proven optimal within
        tolerance); objective: the minimised cost per period (cost_total in cost-optimal mode,
        logistics cost = cost_total - cost_shortage with a target); target: the aggregate service
        target used (None: cost-optimal); achieved: the demand-weighted aggregate of the service metric
        for the chosen plan; service_dual: marginal logistics cost per period of one unit (1.0 = 100
        points) of the aggregate service target, from the LP relaxation (None without a target);
        implied_shortage_cost: the cost per unit short (per unit of demand-weighted service) that makes
        this target cost-optimal = service_dual / total demand per period (None without a target);
        timings: seconds {"prune", "build", "solve", "total"}; method: "milp" or "decomposition".
    """

    choice: pd.DataFrame
    status: SolveStatus
    gap: float
    objective: float
    target: float | None
    achieved: float
    service_dual: float | None = None
    implied_shortage_cost: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    method: str = "milp"
    metric: str = "fill_rate"
    bound: float | None = None  # best lower bound on the objective the solver proved
    candidates_used: int = 0  # candidates left after pruning (size of the selection model)
    duals: dict[str, float] = field(default_factory=dict)  # LP dual per rule (cost per period per unit of
    # the rule's row: per unit of level for service rules, per unit of resource for limits); 0 = slack
    prices: Any = None  # optimizer.prices.Prices of this plan (the duals per unit of each row's
    # resource), what the SKU-chunk tasks compare a SKU's candidates by

    @property
    def cost_total(self) -> float:
        """Total cost per period of the chosen plan (sum of SKU cost_total)."""
        return float(self.choice["cost_total"].sum())

    @property
    def cost_logistics(self) -> float:
        """Logistics cost per period: every bucket but shortage."""
        return float((self.choice["cost_total"] - self.choice["cost_shortage"]).sum())
