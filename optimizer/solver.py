"""HiGHS through Pyomo's `pyomo.contrib.solver` interface: options, and the map from its outcome to
SolveStatus. Solver output stays off unless `tee` is asked for."""

from __future__ import annotations

from dataclasses import dataclass

from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from optimizer.errors import SolverUnavailableError
from optimizer.plan import SolveStatus


@dataclass(frozen=True)
class SolverOptions:
    """Wall-clock limit (seconds), relative MIP gap, and whether to show HiGHS's log."""

    time_limit: float = 60.0
    mip_gap: float = 1e-4
    tee: bool = False


def options_from(scenario, time_limit: float | None = None, mip_gap: float | None = None, tee: bool = False) -> SolverOptions:
    """Solver options: the CLI's values when given, else scenario.solver.time_limit / mip_gap."""
    return SolverOptions(
        time_limit=float(time_limit if time_limit is not None else scenario.solver.time_limit),
        mip_gap=float(mip_gap if mip_gap is not None else scenario.solver.mip_gap),
        tee=tee,
    )


def new_highs() -> Highs:
    """A fresh (persistent) HiGHS solver object. Raises SolverUnavailableError when HiGHS cannot be
    started here, so that the failure is the engine's one clear line, before any model is solved."""
    solver = Highs()
    availability = solver.available()
    if not availability:
        raise SolverUnavailableError(f"status {getattr(availability, 'name', availability)}")
    return solver


def run(solver: Highs, model, options: SolverOptions, mip: bool = True):
    """Solve `model`; returns (SolveStatus, pyomo results). Solutions are not loaded automatically."""
    kw = dict(tee=options.tee, load_solutions=False, raise_exception_on_nonoptimal_result=False,
              time_limit=max(options.time_limit, 1e-3))
    if mip:
        kw["rel_gap"] = options.mip_gap
    results = solver.solve(model, **kw)
    return status_of(results), results


def status_of(results) -> SolveStatus:
    """Map Pyomo/HiGHS termination to SolveStatus: optimal; time_limit (stopped by the limit with an
    incumbent); time_limit_no_plan (stopped by the wall-clock limit before any feasible plan: the limit is
    too short, not a solver failure); infeasible; error (anything else)."""
    tc = results.termination_condition
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if tc == TerminationCondition.convergenceCriteriaSatisfied and has_solution:
        return SolveStatus.optimal
    if tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
              TerminationCondition.interrupted) and has_solution:
        return SolveStatus.time_limit
    if tc == TerminationCondition.maxTimeLimit:
        return SolveStatus.time_limit_no_plan
    if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded,
              TerminationCondition.locallyInfeasible):
        return SolveStatus.infeasible
    return SolveStatus.error
