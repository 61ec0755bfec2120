"""optimizer: what to choose. Candidate generation, pruning, the Pyomo/HiGHS selection model (and its
fast decomposition), duals and the exchange curve (frontier), refinement helpers.

Public API: `select(scenario, evaluations, target=None, method="auto") -> Plan`,
`frontier(scenario, evaluations, levels=None) -> DataFrame`, `initial_candidates(scenario)`,
`Plan`, `SolveStatus`, `InfeasibleError`; `optimizer.refine` for the refine loop.
The optimiser reads an evaluations table; it never imports the simulation.
"""

from __future__ import annotations

from optimizer.errors import InfeasibleError
from optimizer.plan import Plan, SolveStatus

__all__ = ["InfeasibleError", "Plan", "SolveStatus", "select", "frontier", "initial_candidates"]


def __getattr__(name: str):
    # Lazy: importing the package (e.g. for InfeasibleError in the CLI) does not load Pyomo.
    if name == "select":
        from optimizer.select import select

        return select
    if name == "frontier":
        from optimizer.frontier import frontier

        return frontier
    if name == "initial_candidates":
        from optimizer.candidates import initial_candidates

        return initial_candidates
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
