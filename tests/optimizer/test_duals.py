"""Duals and statuses: the service dual is the slope of the lower convex hull of logistics cost vs
service at the target (per unit of level), the implied shortage cost is that slope per unit of demand,
and the solver outcome map gives optimal / time_limit / infeasible / error."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

import synthetic as syn
from optimizer import SolveStatus, select
from optimizer.solver import status_of


def lower_hull_slope(m: np.ndarray, c: np.ndarray, t: float) -> float:
    """Slope of the lower convex hull of points (m, c) over the segment containing level t."""
    best = None
    for i in range(len(m)):
        for j in range(len(m)):
            if m[i] < t <= m[j]:
                lam = (t - m[i]) / (m[j] - m[i])
                val = (1 - lam) * c[i] + lam * c[j]
                if best is None or val < best[0] - 1e-12:
                    best = (val, (c[j] - c[i]) / (m[j] - m[i]))
    return best[1]


@pytest.mark.parametrize("target", [0.9, 0.95])
def test_service_dual_is_hull_slope(target):
    sc = syn.scenario(1, solver={"mip_gap": 0.0})
    ev = syn.evaluations(sc, 10, seed=3)
    m = ev["fill_rate"].to_numpy()
    c = (ev["cost_total"] - ev["cost_shortage"]).to_numpy()
    slope = lower_hull_slope(m, c, target)
    for method in ("milp", "decomposition"):
        plan = select(sc, ev, target=target, method=method)
        assert plan.service_dual == pytest.approx(slope, rel=1e-6)
        d = ev["demand_per_period"].iloc[0]
        assert plan.implied_shortage_cost == pytest.approx(slope / d, rel=1e-6)
        assert plan.achieved >= target - 1e-9


def test_cost_optimal_plan_has_no_dual():
    sc = syn.scenario(3, service={"target": 0.9})
    ev = syn.evaluations(sc, 5)
    plan = select(sc, ev, target="cost_optimal")
    assert plan.target is None and plan.service_dual is None and plan.implied_shortage_cost is None
    assert plan.objective == pytest.approx(ev.groupby("sku")["cost_total"].min().sum())


@pytest.mark.parametrize("tc,ss,expected", [
    (TerminationCondition.convergenceCriteriaSatisfied, SolutionStatus.optimal, SolveStatus.optimal),
    (TerminationCondition.maxTimeLimit, SolutionStatus.feasible, SolveStatus.time_limit),
    (TerminationCondition.maxTimeLimit, SolutionStatus.noSolution, SolveStatus.time_limit_no_plan),
    (TerminationCondition.iterationLimit, SolutionStatus.noSolution, SolveStatus.error),
    (TerminationCondition.provenInfeasible, SolutionStatus.noSolution, SolveStatus.infeasible),
    (TerminationCondition.error, SolutionStatus.noSolution, SolveStatus.error),
])
def test_status_map(tc, ss, expected):
    assert status_of(SimpleNamespace(termination_condition=tc, solution_status=ss)) == expected
