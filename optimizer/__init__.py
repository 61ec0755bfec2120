"""optimizer: what to choose. Candidate generation, pruning, the Pyomo/HiGHS selection model (and its
fast decomposition), duals and the exchange curve (frontier), refinement helpers.

Public API: `select(scenario, evaluations, target=None, method="auto") -> Plan`,
`frontier(scenario, evaluations, levels=None) -> DataFrame`, `frontier_plans(...) -> list[Plan]`,
`initial_candidates(scenario)`, `Plan`, `SolveStatus`, `InfeasibleError`, `SolverTimeLimitError`;
`optimizer.refine` (neighbours, frontier_neighbours, contenders, gain_within_noise) for the refine loop. The optimiser reads an evaluations table; it never imports the
simulation.

`frontier` and `frontier_plans` share one sweep per content of (scenario, evaluations, levels, method,
solver options, finish), memoised (optimizer.frontier.clear_memo empties it); a sweep builds its models once and
re-solves them level after level. `optimizer.solver.counts()` tells how many models were built into
HiGHS and how many HiGHS runs were made.
"""

from __future__ import annotations

from optimizer.errors import InfeasibleError, SolverTimeLimitError
from optimizer.plan import Plan, SolveStatus
# The functions are bound after their modules are imported, so `optimizer.select` and
# `optimizer.frontier` are the functions (the modules stay reachable through sys.modules).
from optimizer.candidates import initial_candidates
from optimizer.select import COST_OPTIMAL, select
from optimizer.frontier import frontier, frontier_plans

__all__ = ["InfeasibleError", "SolverTimeLimitError", "Plan", "SolveStatus", "select", "frontier", "initial_candidates", "COST_OPTIMAL",
           "frontier_plans"]
