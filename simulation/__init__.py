"""simulation: the SimPy reference model and the fast kernel, scored by one metrics module.

`evaluate(scenario, policies, engine="kernel", replications=None, seed=None, jobs=1)` simulates
candidate policies and returns their metrics and costs (docs/outputs.md, docs/simulation.md).
"""

from simulation.evaluate import evaluate

__all__ = ["evaluate"]
