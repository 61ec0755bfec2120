"""A worker process killed mid-run is retried or reported, never silently dropped.

The simulation chunks of `tradeoff.run` are shipped to pool workers as `evaluate_chunk(task)`. Here
a stand-in that calls os._exit() (an abrupt death: no exception, no cleanup, as a segfault or the
OOM killer) replaces it. Which chunk dies is told through the scenario's `description` (it travels
with every task into the worker): "die-once:<file>" kills the first worker that finds <file> missing
(the file records the death), "die-always" kills every worker. Executor-level deaths with generic
functions are in tests/tradeoff/test_executors.py (local) and test_executors_dask.py (Dask).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import scenarios
from tradeoff.executors import WorkerLostError, get_executor
from small_scenario import small_scenario  # tests/reliability/small_scenario.py
from tradeoff.pipeline import evaluate_chunk, run

SMALL = small_scenario("small", 3, description="DESCRIPTION")


def dying_chunk(task: tuple) -> pd.DataFrame:
    """evaluate_chunk, except that the worker dies abruptly as the scenario's description says."""
    order = task[0].description
    if order == "die-always":
        os._exit(1)
    if order.startswith("die-once:"):
        marker = Path(order.split(":", 1)[1])
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os._exit(1)
    return evaluate_chunk(task)


def scenario_file(tmp_path, description: str) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.replace("DESCRIPTION", repr(description)))
    return path


def chunk_tasks(scenario) -> list[tuple]:
    policies = pd.DataFrame({"sku": ["a", "a", "b", "c", "c"], "family": "base_stock", "mode": "truck",
                             "s": float("nan"), "S": [8.0, 14.0, 6.0, 10.0, 20.0], "Q": float("nan"),
                             "R": 1.0, "cap": float("nan")})
    # The SimPy engine: nothing to compile or load in a fresh worker, so the retry stays cheap. A task
    # carries the scenario without SKUs and its own SKUs (as the run's Evaluator makes them).
    bare = scenario.model_copy(update={"skus": ()})
    return [(bare, tuple(s for s in scenario.skus if s.id == k), policies[policies["sku"] == k].reset_index(drop=True),
             "simpy", 2, 7) for k in "abc"]


def test_executor_retries_a_chunk_whose_worker_died_and_loses_no_row(tmp_path):
    marker = tmp_path / "died"
    scenario = scenarios.load(scenario_file(tmp_path, f"die-once:{marker}"))
    tasks = chunk_tasks(scenario)
    expected = [evaluate_chunk(t) for t in tasks]  # in this process: no worker to die
    with get_executor("local", jobs=2) as pool:
        got = pool.map(dying_chunk, tasks)
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker really died
    for a, b in zip(got, expected):
        pd.testing.assert_frame_equal(a, b)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """plan.csv and frontier.csv of an undisturbed run (one process)."""
    tmp = tmp_path_factory.mktemp("ref")
    run(scenario_file(tmp, "plain"), out=tmp / "out")
    return {n: (tmp / "out" / "small" / n).read_bytes() for n in ("plan.csv", "frontier.csv")}


def test_run_with_a_worker_killed_mid_run_gives_the_undisturbed_plan(tmp_path, monkeypatch, reference):
    """jobs=2, one worker dies during the simulation: its chunk is re-run and the result files are
    byte-identical to the undisturbed run's (the description differs, the numbers may not)."""
    marker = tmp_path / "died"
    monkeypatch.setattr("tradeoff.pipeline.evaluate_chunk", dying_chunk)
    run(scenario_file(tmp_path, f"die-once:{marker}"), out=tmp_path / "out", jobs=2)
    assert marker.exists()
    for name, data in reference.items():
        assert (tmp_path / "out" / "small" / name).read_bytes() == data, name


def test_run_whose_workers_always_die_reports_it_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("tradeoff.pipeline.evaluate_chunk", dying_chunk)
    with pytest.raises(WorkerLostError, match="even after one retry") as info:
        run(scenario_file(tmp_path, "die-always"), out=tmp_path / "out", jobs=2)
    assert "small" in str(info.value)  # the lost chunk is named by its scenario
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
