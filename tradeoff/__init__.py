"""tradeoff: which customer service level to offer, and the inventory/transport policy that delivers
it at the lowest total cost. `tradeoff.run(path_or_scenario, out=None, ...) -> Result` does the whole
job from Python (see tradeoff.pipeline.run)."""

from __future__ import annotations

__all__ = ["Result", "run"]


def __getattr__(name: str):
    # Lazy, so that `tradeoff --help` does not pay for pandas, Pyomo and numba.
    if name == "run":
        from tradeoff.pipeline import run

        return run
    if name == "Result":
        from tradeoff.result import Result

        return Result
    raise AttributeError(f"module 'tradeoff' has no attribute {name!r}")
