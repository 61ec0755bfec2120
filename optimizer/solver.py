"""HiGHS through Pyomo's `pyomo.contrib.solver` interface: options, the map from its outcome to
SolveStatus, persistent solver objects that are told each change explicitly, and counters of the work
done (`COUNTS`: models handed to HiGHS and HiGHS runs). Solver output stays off unless `tee` is asked for."""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

from pyomo.common.tee import capture_output

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


# Work counters, for tests and benchmarks: "builds" counts models handed to a HiGHS object in full
# (Pyomo's set_instance: every variable and row written), "highs_calls" every HiGHS run (LP or MILP).
COUNTS: Counter = Counter()
_counts_lock = threading.Lock()
_instance_of: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # solver -> weakref to its model


def _count(key: str) -> None:
    with _counts_lock:
        COUNTS[key] += 1


def counts() -> dict[str, int]:
    """A copy of the counters (builds, highs_calls): subtract two copies to measure a piece of work."""
    with _counts_lock:
        return {"builds": COUNTS["builds"], "highs_calls": COUNTS["highs_calls"]}


_AUTO_UPDATES = ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                 "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints", "update_vars",
                 "update_parameters", "update_named_expressions", "update_objective")


@contextmanager
def quiet():
    """Silence HiGHS while a persistent model is changed outside a solve before its first run (Pyomo
    captures HiGHS's output during runs only; HiGHS warns, e.g., of a coefficient below its 1e-9
    tolerance, which it drops; after a run, see `run`)."""
    with capture_output(capture_fd=True):
        yield


def persistent(model) -> Highs:
    """A HiGHS object holding `model` (built now, once): later changes are passed explicitly
    (add_constraints, remove_constraints, update_variables, update_parameters, set_objective), so
    a re-solve costs no scan of the model. Raises SolverUnavailableError like new_highs."""
    solver = new_highs()
    au = solver.config.auto_updates
    for flag in _AUTO_UPDATES:
        setattr(au, flag, False)
    solver.set_instance(model)
    _count("builds")
    _instance_of[solver] = weakref.ref(model)
    return solver


class _Highs(Highs):
    """Pyomo's persistent HiGHS interface, with the columns that a change of rows brings in or leaves
    unused handed to HiGHS in one batch per call. Pyomo does it row by row: per added row a HiGHS call
    (and numpy arrays) for its new columns, per removed row a deletion that renumbers every column
    of the model in Python, even when no column goes: O(rows x columns) per call. The columns, their
    order and their numbers are the same either way, so HiGHS holds the same model."""

    _unused: dict | None = None  # id -> variable left unused by the rows being removed (during removal)
    _new: list | None = None  # variables new to HiGHS met by the rows being added (during addition)

    def add_constraints(self, cons):
        if not cons:  # (Pyomo's update() before each run asks for none: no HiGHS call, no renumbering)
            return
        self._new = []
        try:
            super().add_constraints(cons)  # (its _add_constraints adds the new columns first)
        finally:
            self._new = None

    def _add_variables(self, variables):
        if self._new is None:
            super()._add_variables(variables)
        else:
            self._new.extend(variables)

    def _add_constraints(self, cons):
        if self._new:
            new, self._new = self._new, []
            super()._add_variables(new)
        super()._add_constraints(cons)

    def remove_constraints(self, cons):
        if not cons:
            return
        self._unused = {}
        try:
            super().remove_constraints(cons)
            unused = list(self._unused.values())
        finally:
            self._unused = None
        self.remove_variables(unused)

    def _check_to_remove_vars(self, variables):
        if self._unused is None:
            super()._check_to_remove_vars(variables)
            return
        for v in variables:
            ref_cons, ref_sos, ref_obj = self._referenced_variables[id(v)]
            if not ref_cons and not ref_sos and ref_obj is None:
                self._unused[id(v)] = v

    def remove_variables(self, variables):
        if variables:  # (no renumbering for nothing)
            super().remove_variables(variables)


def new_highs() -> Highs:
    """A fresh (persistent) HiGHS solver object. Raises SolverUnavailableError when HiGHS cannot be
    started here, so that the failure is the engine's one clear line, before any model is solved."""
    solver = _Highs()
    availability = solver.available()
    if not availability:
        raise SolverUnavailableError(f"status {getattr(availability, 'name', availability)}")
    return solver


def run(solver: Highs, model, options: SolverOptions, mip: bool = True):
    """Solve `model`; returns (SolveStatus, pyomo results). Solutions are not loaded automatically."""
    # output_flag stays set in a persistent HiGHS object after the run: the changes made to it between
    # runs (Pyomo captures HiGHS's output during runs only) print nothing either.
    kw = dict(tee=options.tee, load_solutions=False, raise_exception_on_nonoptimal_result=False,
              time_limit=max(options.time_limit, 1e-3), solver_options={"output_flag": bool(options.tee)})
    if mip:
        kw["rel_gap"] = options.mip_gap
    seen = _instance_of.get(solver)
    if seen is None or seen() is not model:  # Pyomo builds the model into HiGHS on this solve
        _count("builds")
        _instance_of[solver] = weakref.ref(model)
    _count("highs_calls")
    results = solver.solve(model, **kw)
    return status_of(results), results


def mip_start(solver: Highs, values) -> bool:
    """Offer HiGHS a feasible MILP solution ((Pyomo variable, value) pairs; variables not given start at 0)
    before the next run, so that branch and bound starts with that incumbent. Pyomo's interface has no
    call for this, so it goes to the HiGHS object underneath; returns False (nothing offered) when
    that is not reachable in this Pyomo version."""
    try:
        import highspy

        h = solver._solver_model
        col_of = solver._pyomo_var_to_solver_var_map
        sol = highspy.HighsSolution()
        col = [0.0] * h.getNumCol()
        for var, value in values:
            col[col_of[id(var)]] = float(value)
        sol.col_value = col
        sol.value_valid = True
        return h.setSolution(sol) == highspy.HighsStatus.kOk
    except (AttributeError, KeyError, TypeError, ImportError):
        return False


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
