"""A chunk step run again (its worker died after writing its file, before the head got the answer:
Dask and the local pool then run the task once more) gives the same answer, because each step reads
the file of the step before and writes its own; and a worker that cannot see the run's work folder
is one line naming the folder and the worker, not a traceback."""

from __future__ import annotations

import pandas as pd
import pytest

import optimizer
import scenarios
import tradeoff.pipeline as pipeline
from simulation.metrics import POLICY_COLUMNS
from tradeoff import environment
from tradeoff.search import Level, Task, run_step, skeleton

from test_chunking import SCENARIO  # noqa: E402  (tests/tradeoff/test_chunking.py: 8 SKUs, a target and a floor)


@pytest.fixture()
def setting(tmp_path):
    path = tmp_path / "chunky.yaml"
    path.write_text(SCENARIO.format(seed=11))
    scenario = scenarios.load(path)
    chunk = pipeline.plan_chunks(scenario, 1)[0]
    store = tmp_path / "work"
    store.mkdir()
    return scenario, chunk, store


def test_a_refine_step_run_twice_gives_the_same_answer(setting):
    scenario, chunk, store = setting
    bare = skeleton(scenario)
    explored = run_step((bare, Task(chunk, "kernel", str(store), "explore", generation=0)))
    plan = optimizer.select(scenario, explored.efficient)
    level = Level(plan.prices, 3, contenders=True)
    choices = plan.choice[list(POLICY_COLUMNS)].reset_index(drop=True).assign(level=0)
    # Without its SKU objects, as the head sends a step after explore: the step reads them from the store.
    task = Task(chunk.without_models(), "kernel", str(store), "refine", (level,), choices, generation=1)
    first = run_step((bare, task))
    again = run_step((bare, task))  # the retry: its input (generation 0) is untouched
    assert first.simulated > 0  # the step did work (new neighbours, contenders)
    pd.testing.assert_frame_equal(first.efficient, again.efficient)
    assert (first.candidates, first.simulated, first.rounds) == (again.candidates, again.simulated, again.rounds)


def test_a_work_folder_a_worker_cannot_see_is_one_line(setting):
    scenario, chunk, store = setting
    missing = store / "elsewhere"
    with pytest.raises(environment.WorkFolderNotVisible) as info:
        run_step((skeleton(scenario), Task(chunk, "kernel", str(missing), "explore")))
    line = environment.describe(info.value)
    assert line.startswith(f"{missing}: not visible from ") and "file system every worker sees" in line
    assert "\n" not in line


def test_the_folder_a_worker_cannot_see_is_quoted_capped_and_named_by_out():
    """The message names --out (not the hidden work folder in it), escaped and cut to the engine's cap."""
    out = "/shared/" + "x" * 300 + "\u202e"
    line = environment.describe(environment.WorkFolderNotVisible(f"{out}/.tmp-run-1-ab12", "worker tcp://10.0.0.7:1"))
    assert ".tmp-" not in line and "\u202e" not in line
    assert line.startswith("/shared/xxx") and "(309 characters)" in line and len(line) < 300


def test_a_chunks_sku_codes_follow_its_order_and_refuse_other_skus(setting):
    """Each row's SKU code is the SKU's position in the chunk (whatever the rows' order and dtype),
    its class the chunk's class of that SKU; a row of a SKU outside the chunk (or none) is an error,
    never the last SKU's class."""
    from tradeoff.search import _Chunk

    scenario, chunk, store = setting
    step = _Chunk(skeleton(scenario), Task(chunk, "kernel", str(store), "explore"))
    picks = [3, 0, 3, 7, 1, 1]
    for dtype in ("str", object):
        codes, classes = step.codes_and_classes(pd.DataFrame({"sku": pd.Series([chunk.skus[k] for k in picks], dtype=dtype)}))
        assert codes.tolist() == picks and classes.tolist() == [chunk.classes[k] for k in picks]
    empty = step.codes_and_classes(pd.DataFrame({"sku": pd.Series([], dtype="str")}))
    assert empty[0].tolist() == [] and empty[0].dtype == "int64"
    for stranger in ("not-a-sku", None):
        with pytest.raises(ValueError, match="rows of SKUs outside"):
            step.codes_and_classes(pd.DataFrame({"sku": [chunk.skus[0], stranger]}))


def test_the_levels_chosen_policies_travel_as_one_table_and_split_back_by_level(setting):
    """The head sends every level's choices of a chunk as one table with a `level` column; the task
    gives each level its own rows back, in order, and none to a level without rows."""
    from optimizer.prices import Prices

    _, chunk, store = setting
    zero = Prices("total", "fill_rate")
    rows = [dict(sku=chunk.skus[k], family="sS", mode="truck", s=float(k), S=float(k + 5), Q=float("nan"), R=0,
                 cap=float("nan"), critical_level=0.0) for k in range(4)]
    table = pd.DataFrame(rows)[list(POLICY_COLUMNS)].assign(level=[0, 0, 2, 2])
    task = Task(chunk.without_models(), "kernel", str(store), "refine", (Level(zero, 1),) * 3, table, generation=1)
    parts = task.level_choices()
    assert [p["s"].tolist() for p in parts] == [[0.0, 1.0], [], [2.0, 3.0]]
    assert all(list(p.columns) == list(POLICY_COLUMNS) for p in parts)
    assert [len(p) for p in Task(chunk, "kernel", str(store), "explore", (Level(zero, 1),)).level_choices()] == [0]
