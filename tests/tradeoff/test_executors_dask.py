"""The Dask executor, on one LocalCluster (2 single-threaded worker processes) for the module: the
same results as local execution, in input order; a task that kills its worker named, never
dropped; batch scenarios run as cluster tasks; and the real engine giving the same plan when its
SKU chunks go to the cluster as when one process runs them all."""

from __future__ import annotations

import json
import os

import pytest
from test_batch import Recorder, fake_run, read_batch_csv, scenario_data, write_scenario
from test_executors import fail_on_three, kill_on, pid_of, square_slowly

from tradeoff.batch import run_batch
from tradeoff.executors import LostItem, get_executor


@pytest.fixture(scope="module")
def cluster():
    with get_executor("dask", jobs=2) as ex:
        yield ex


def test_dask_gives_the_same_results_as_local(cluster):
    assert cluster.kind == "dask" and cluster.workers == 2
    with get_executor("local", jobs=1) as local:
        expected = local.map(square_slowly, list(range(10)))
    assert cluster.map(square_slowly, list(range(10))) == expected
    assert os.getpid() not in cluster.map(pid_of, [0, 1])


def total_length(item: tuple) -> int:
    shared, x = item
    return len(shared) + x


def test_a_shared_object_reaches_every_task(cluster):
    catalogue = list(range(1000))
    handle = cluster.share(catalogue)
    assert cluster.map(total_length, [(handle, i) for i in range(4)]) == [1000, 1001, 1002, 1003]
    with get_executor("local", jobs=1) as local:  # locally the handle is the object itself
        assert local.share(catalogue) is catalogue


def test_dask_names_an_item_that_kills_its_worker(cluster):
    items = [(i, "always" if i == 1 else "") for i in range(3)]
    results = cluster.map(kill_on, items, lost="return")
    assert isinstance(results[1], LostItem) and results[1].index == 1
    assert results[0] == 0 and results[2] == 20


def test_dask_exception_names_the_item(cluster):
    with pytest.raises(ArithmeticError) as info:
        cluster.map(fail_on_three, list(range(5)))
    assert "item 3" in "\n".join(getattr(info.value, "__notes__", []))


def test_a_batch_on_dask_runs_each_scenario_as_a_cluster_task(cluster, tmp_path):
    # The stand-in runner keeps this cheap: the batch mechanics on Dask are under test here
    # (tasks, statuses, progress events sent by the workers); real plans are compared below.
    src = tmp_path / "s"
    src.mkdir()
    write_scenario(src, "a.yaml", scenario_data("one", unit_costs=(4.0, 9.0)))
    write_scenario(src, "b.yaml", scenario_data("two", "infeasible"))
    write_scenario(src, "c.yaml", scenario_data("three", "boom"))
    seen = Recorder()
    outcome = run_batch([src], tmp_path / "out", executor="dask", scheduler=cluster.scheduler, runner=fake_run,
                        progress=seen)
    rows = read_batch_csv(tmp_path / "out")
    assert {k: r["status"] for k, r in rows.items()} == {"a.yaml": "ok", "b.yaml": "infeasible", "c.yaml": "failed"}
    assert float(rows["a.yaml"]["cost_total"]) == 13.0 and "boom" in rows["c.yaml"]["message"]
    assert outcome.exit_status == 4
    assert json.loads((tmp_path / "out" / "one" / "summary.json").read_text())["pid"] != os.getpid()
    assert ("one", "write") in seen.stages  # progress came back as worker events


def test_dask_sku_chunks_give_the_same_plan_as_one_process(cluster, tmp_path):
    import tradeoff

    costs = (4.0, 9.0, 2.0, 15.0, 7.5)
    path = write_scenario(tmp_path, "a.yaml", scenario_data("alpha", unit_costs=costs, seed=3))
    local = tradeoff.run(str(path), out=tmp_path / "local", jobs=1)
    dask = tradeoff.run(str(path), out=tmp_path / "dask", executor="dask", scheduler=cluster.scheduler, jobs=2)
    # this process simulated the 5 SKUs in 4 chunks; the 2 cluster workers got them in 5 chunks
    for name in ("plan.csv", "frontier.csv"):
        assert (tmp_path / "dask" / "alpha" / name).read_bytes() == (tmp_path / "local" / "alpha" / name).read_bytes()
    assert dask.summary["totals"] == local.summary["totals"]
