"""The real engine behind `tradeoff batch`: the command line, as a planner runs it, on good, broken
and infeasible files (the Dask executor's plans are compared in test_executors_dask.py)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_batch import scenario_data, write_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_batch(tmp_path_factory):
    """`tradeoff batch` run as a planner would: a good file, a broken one, an infeasible one (more
    good files and every other status are in test_batch, with a stand-in for the engine)."""
    base = tmp_path_factory.mktemp("real")
    src = base / "scenarios"
    src.mkdir()
    write_scenario(src, "a.yaml", scenario_data("alpha", unit_costs=(4.0, 9.0, 2.0, 15.0), seed=3))
    (src / "c.yaml").write_text("format: 1\nname: broken\nskus: [{id: X, unit_cost: }\n", encoding="utf-8")
    infeasible = scenario_data("gamma")
    infeasible["budget"] = {"inventory_value": 1.0}  # less than one unit of stock: no plan fits
    write_scenario(src, "d.yaml", infeasible)
    out = base / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "tradeoff.cli", "batch", str(src), "--out", str(out), "--jobs", "2"],
                          env=env, capture_output=True, text=True, timeout=600)
    return src, out, proc


def test_the_command_runs_good_files_and_reports_the_others(local_batch):
    src, out, proc = local_batch
    assert proc.returncode == 4, proc.stderr
    with open(out / "batch.csv", newline="") as f:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(f)}
    assert {k: r["status"] for k, r in rows.items()} == {"a.yaml": "ok", "c.yaml": "invalid", "d.yaml": "infeasible"}
    assert "budget.inventory_value" in rows["d.yaml"]["message"]
    assert "c.yaml" in proc.stderr  # the invalid file is reported on the terminal/log too
    assert "1 ok" in proc.stdout
    for name, folder in (("a.yaml", "alpha"),):
        plan = pd.read_csv(out / folder / "plan.csv")
        summary = json.loads((out / folder / "summary.json").read_text())
        # batch.csv's headline is the result's: total cost = sum over SKUs of plan.csv's cost_total
        assert float(rows[name]["cost_total"]) == pytest.approx(plan["cost_total"].sum(), rel=1e-9)
        assert rows[name]["scenario_hash"] == summary["scenario_hash"]
        assert float(rows[name]["service_achieved"]) == pytest.approx(summary["service"]["achieved"], rel=1e-9)
        # the solver status is the enum's value, in batch.csv as in summary.json (not `SolveStatus.optimal`)
        assert rows[name]["solver_status"] == summary["solver"]["status"] == "optimal"
    # The infeasible scenario's result shows what is reachable, without a plan (issue 15, point 8).
    assert sorted(p.name for p in out.iterdir()) == ["alpha", "batch.csv", "gamma"]
    assert not (out / "gamma" / "plan.csv").exists() and (out / "gamma" / "frontier.csv").exists()
