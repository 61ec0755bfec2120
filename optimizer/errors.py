"""The optimiser's user error: a service rule or limit that no choice of candidates can meet (exit 3)."""

from __future__ import annotations


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
