"""Same scenario and seed -> byte-identical result files, across separate processes.

Already covered elsewhere: a second run with 2 jobs and the SimPy engine gives the same plan.csv,
frontier.csv and audit.csv bytes (tests/tradeoff/test_run.py::test_same_plan_bytes_across_runs_jobs_and_engines),
SKU chunks equal one call (test_run.py::test_chunks_of_skus_give_the_numbers_of_one_call), and the
Dask executor gives the plan of one process (tests/tradeoff/test_executors_dask.py::
test_dask_sku_chunks_give_the_same_plan_as_one_process). Here: a fresh interpreter with another
string-hash seed (so any dependence on set or dict-of-str ordering, object ids or import order
would show), through the command line, against an in-process run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tradeoff.pipeline import run

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = """\
format: 1
name: repeat
seed: 17
horizon: {periods: 40, warmup: 5}
replications: 2
costs: {order_cost: 25.0, goodwill: 0.5}
customer_reaction: {wait: 0.4, substitute: 0.2, lost_sale: 0.4}
transport:
  - {name: truck, lead_time: {dist: gamma, mean: 3, cv: 0.4}, cost_per_shipment: 40, cost_per_unit: 0.1}
  - {name: air, lead_time: 1, cost_per_shipment: 90, cost_per_unit: 0.6}
service: {target: 0.93, frontier: [0.9, 0.95]}
policies: {families: [sS, rQ], review_periods: [0, 2]}
skus:
  - {id: z-last, unit_cost: 5, price: 9, demand: {dist: negbin, mean: 4, cv: 0.9}, current_policy: {family: sS, s: 8, S: 20}}
  - {id: a-first, unit_cost: 12, price: 20, demand: {dist: compound, orders: {dist: poisson, mean: 0.5}, size: {dist: uniform, low: 1, high: 6}}}
  - {id: m-mid, unit_cost: 3, price: 4, demand: {dist: poisson, mean: 6}}
"""
SAME_BYTES = ("plan.csv", "frontier.csv", "audit.csv")


def test_a_fresh_process_with_another_hash_seed_writes_the_same_bytes(tmp_path):
    path = tmp_path / "repeat.yaml"
    path.write_text(SCENARIO)
    here = run(path, out=tmp_path / "here")
    env = {**os.environ, "PYTHONHASHSEED": "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "77"}
    cmd = [sys.executable, "-m", "tradeoff.cli", "run", str(path), "--out", str(tmp_path / "there")]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = tmp_path / "here" / "repeat", tmp_path / "there" / "repeat"
    assert here.out_dir == a
    for name in SAME_BYTES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(a / "candidates.parquet"), pd.read_parquet(b / "candidates.parquet"))
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    for s in (sa, sb):  # wall-clock figures are the only things allowed to differ
        s.pop("timings", None)
        s.get("solver", {}).pop("timings", None)
    assert sa == sb
