"""The optimiser's errors: a service rule or limit that no choice of candidates can meet (exit 3), a
solver time limit too short to find any plan (exit 2: the setting is input the user can fix), and a
solver that cannot be started in this Python (exit 1: an environment failure)."""

from __future__ import annotations

from scenarios.errors import Problem, ScenarioError


class InfeasibleError(Exception):
    """No plan meets `rule` (e.g. ``service.target``, ``service.floors.A``, ``service.sku_floor`` for
    SKU X, ``budget.inventory_value``); `best_achievable` is the best level of that rule's measure that
    the candidates allow under the other rules (a service level for service rules, the smallest
    resource use in the rule's unit for a limit). The command line maps it to exit status 3."""

    def __init__(self, rule: str, best_achievable: float, message: str | None = None) -> None:
        self.rule = rule
        self.best_achievable = float(best_achievable)
        if message is None:
            message = f"{rule} cannot be met: the best achievable level is {self.best_achievable:.6g}"
        self.message = message
        super().__init__(message)

    def __reduce__(self):  # picklable across worker processes (batch / dask)
        return (type(self), (self.rule, self.best_achievable, self.message))


class SolverTimeLimitError(ScenarioError, RuntimeError):
    """The selection solver reached its wall-clock limit (`solver.time_limit` in the scenario, or
    `--time-limit` on the command line), `time_limit` seconds, before it found any plan. A too-short
    setting is input the user can fix, so this is a ScenarioError (exit status 2, nothing written);
    it is also a RuntimeError (the solver ran and gave no plan). `what` names the solve."""

    def __init__(self, time_limit: float, what: str = "the selection", file: str = "<scenario>") -> None:
        self.time_limit = float(time_limit)
        self.what = what
        rule = (f"seconds (solver.time_limit / --time-limit): the time limit was reached before the solver found "
                f"any plan for {what}; raise solver.time_limit in the scenario or pass a larger --time-limit "
                f"(the default is 60 s)")
        super().__init__(Problem(file=file, path="solver.time_limit", rule=rule, value=self.time_limit,
                                 has_value=True))

    def __reduce__(self):  # picklable across worker processes (batch / dask)
        return (type(self), (self.time_limit, self.what, self.problems[0].file))


class SolverUnavailableError(RuntimeError):
    """HiGHS cannot be started from this Python environment (highspy missing or broken), found before
    any solve. An environment failure: the command line prints this message as one line, exit 1."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        message = ("the MILP solver HiGHS is not available in this Python environment"
                   + (f" ({detail})" if detail else "")
                   + "; install the project's dependencies (highspy) here")
        super().__init__(message)

    def __reduce__(self):  # picklable across worker processes (batch / dask)
        return (type(self), (self.detail,))
