"""tradeoff: which customer service level to offer, and the inventory/transport policy that delivers
it at the lowest total cost. `tradeoff.run(path_or_scenario, out=None, ...) -> Result` does the whole
job from Python (see tradeoff.pipeline.run); `tradeoff.read(folder) -> Result` reads a finished
run's folder back (see tradeoff.result.read)."""

from __future__ import annotations

__all__ = ["Result", "RunOptions", "read", "run"]


def __getattr__(name: str):
    # Lazy, so that `tradeoff --help` does not pay for pandas, Pyomo and numba.
    if name == "run":
        from tradeoff.pipeline import run

        return run
    if name in ("Result", "read"):
        from tradeoff import result

        return getattr(result, name)
    if name == "RunOptions":
        from tradeoff.options import RunOptions

        return RunOptions
    raise AttributeError(f"module 'tradeoff' has no attribute {name!r}")
