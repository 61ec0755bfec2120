"""Evaluator puts the executor's shared handle to the scenario without SKUs into its chunk tasks (on
Dask a scatter sent to each worker once), asks for it once per Evaluator, gives each task only its
own SKUs, and gives the numbers of a direct simulation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import scenarios
import simulation
from tradeoff.executors import LocalExecutor
from tradeoff.pipeline import Evaluator

RETAIL_DC = Path(__file__).resolve().parents[2] / "scenarios/examples/retail_dc.yaml"


class Handle:
    """Stands for a Dask future: the task must receive it, and it is resolved on the worker."""

    def __init__(self, obj):
        self.obj = obj


class RecordingExecutor(LocalExecutor):
    """In-process executor whose share() returns a Handle and whose tasks resolve it, as Dask does."""

    def __init__(self):
        super().__init__(jobs=1)
        self.shared = 0
        self.tasks = []

    def share(self, obj):
        self.shared += 1
        return Handle(obj)

    def iter_completed(self, fn, items, *, lost="raise"):
        self.tasks.extend(items)
        for i, item in enumerate(items):
            yield i, fn((item[0].obj, *item[1:]))


def test_chunk_tasks_carry_the_shared_handle_not_the_scenario():
    scenario = scenarios.load(RETAIL_DC)
    skus = [s.id for s in scenario.skus[:3]]
    policies = pd.DataFrame({"sku": skus * 2, "family": "base_stock", "mode": scenario.allowed_modes()[0], "s": float("nan"), "S": [5.0, 8.0, 11.0, 20.0, 25.0, 30.0], "Q": float("nan"),
                             "R": 1.0, "cap": float("nan")})
    pool = RecordingExecutor()
    evaluate = Evaluator(scenario, "kernel", pool, chunks=3)
    first = evaluate(policies, 2, 5)
    evaluate(policies.iloc[:2], 2, 5)
    assert pool.shared == 1  # one scatter per Evaluator, not per call or chunk
    assert len(pool.tasks) == 3 + 2
    # the handle is the scenario without its SKUs; each task carries its own SKUs, no other
    assert all(isinstance(task[0], Handle) and task[0].obj.skus == () for task in pool.tasks)
    assert all({s.id for s in task[1]} == set(task[2]["sku"]) for task in pool.tasks)
    pd.testing.assert_frame_equal(first, simulation.evaluate(scenario, policies, replications=2, seed=5))
