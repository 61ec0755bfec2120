"""simulation: the SimPy reference model and the fast kernel, scored by one metrics module.

`evaluate(scenario, policies, engine="kernel", replications=None, seed=None, executor=None)` simulates
candidate policies and returns their metrics and costs (docs/outputs.md, docs/simulation.md); SKU
chunks go to `executor` (anything with `map`, e.g. a tradeoff.executors executor) or run in this process.
"""

from simulation.evaluate import evaluate

__all__ = ["evaluate"]
