"""The exchange curve (frontier) of a run, before and after a change to the optimiser.

A `tradeoff run` sweeps the curve on up to three evaluation tables: optimizer.frontier_plans in each
of the FRONTIER_REFINE_ROUNDS refine rounds, then optimizer.frontier on the final table. This script
records those tables once (it runs the scenario with the two functions wrapped; cached in --tables),
then replays the same calls, in the same order, in fresh processes: the `before` optimiser package
(from git revision --before, everything else from this working tree) and the `after` one (this
working tree), alternated, --repeats times each. Per process it prints the CPU seconds of the calls
(time.process_time), the HiGHS runs (pyomo's Highs.solve) and the models built into HiGHS (Highs.set_instance);
then the medians, and the largest difference of the final frontier's cost_logistics between the two
(relative to the row's cost, to compare with the MIP gap).

The recorded tables are kept by default under a name that holds a hash of the scenario file and of
scenarios/schema.py: a recording pickles Scenario objects, which a later schema cannot read back.

    .venv/bin/python benchmarks/frontier.py [--scenario scenarios/bench/bench_1000.yaml]
        [--tables /tmp/frontier_tables_<hash>.pkl] [--before fe9b021~1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "fe9b021~1"  # the optimiser before issue 14 (one sweep of rebuilt models per level)


def record(scenario_path: str, tables: Path) -> None:
    """Run the scenario once and keep the (function, evaluations) of every frontier call."""
    sys.path.insert(0, str(ROOT))
    import optimizer
    from tradeoff.pipeline import run

    calls = []
    frontier, frontier_plans = optimizer.frontier, optimizer.frontier_plans

    def fr(scenario, evaluations, *a, **k):
        calls.append(("frontier", evaluations.copy()))
        return frontier(scenario, evaluations, *a, **k)

    def fp(scenario, evaluations, *a, **k):
        calls.append(("frontier_plans", evaluations.copy()))
        return frontier_plans(scenario, evaluations, *a, **k)

    optimizer.frontier, optimizer.frontier_plans = fr, fp
    try:
        result = run(scenario_path)
    finally:
        optimizer.frontier, optimizer.frontier_plans = frontier, frontier_plans
    with open(tables, "wb") as f:
        pickle.dump({"scenario": result.scenario, "calls": calls}, f)


def worker(optimizer_root: str, tables: str) -> None:
    """Replay the recorded frontier calls with the optimizer package found under optimizer_root."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, optimizer_root)
    from pyomo.contrib.solver.solvers.highs import Highs

    import optimizer

    assert Path(optimizer.__file__).resolve().is_relative_to(Path(optimizer_root).resolve()), optimizer.__file__
    counts = {"highs_calls": 0, "builds": 0}
    solve, set_instance = Highs.solve, Highs.set_instance

    def counted_solve(self, *a, **k):
        counts["highs_calls"] += 1
        return solve(self, *a, **k)

    def counted_set_instance(self, *a, **k):
        counts["builds"] += 1
        return set_instance(self, *a, **k)

    Highs.solve, Highs.set_instance = counted_solve, counted_set_instance
    with open(tables, "rb") as f:
        data = pickle.load(f)
    scenario, calls = data["scenario"], data["calls"]
    t0, w0 = time.process_time(), time.perf_counter()
    last = None
    for name, evaluations in calls:
        last = getattr(optimizer, name)(scenario, evaluations)
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    rows = last[["target", "cost_logistics", "gap", "status"]].astype({"target": float}).to_dict("list") \
        if hasattr(last, "columns") else None
    print(json.dumps({"cpu": cpu, "wall": wall, **counts, "calls": [c[0] for c in calls], "frontier": rows}))


def optimizer_at(rev: str, where: Path) -> Path:
    """The optimizer package of git revision `rev`, extracted under `where`."""
    archive = where / "optimizer.tar"
    with open(archive, "wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "optimizer"], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(where, filter="data")
    return where


def default_tables(scenario_path: str) -> str:
    """Where the recording of `scenario_path` is kept: named by a hash of the scenario file and of the
    schema its pickled Scenario needs."""
    h = hashlib.sha256(Path(scenario_path).read_bytes())
    h.update((ROOT / "scenarios" / "schema.py").read_bytes())
    return os.path.join(tempfile.gettempdir(), f"frontier_tables_{h.hexdigest()[:12]}.pkl")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/bench/bench_1000.yaml"))
    ap.add_argument("--tables", default=None, help="recorded calls (default: see default_tables)")
    ap.add_argument("--before", default=BEFORE, help="git revision of the optimiser to compare with "
                    "(default: the optimiser before issue 14)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", nargs=2, metavar=("OPTIMIZER_ROOT", "TABLES"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(*a.worker)
        return
    tables = Path(a.tables or default_tables(a.scenario))
    if not tables.exists():
        print(f"recording the frontier calls of {a.scenario} into {tables} (one run) ...", flush=True)
        record(a.scenario, tables)
    with open(tables, "rb") as f:
        data = pickle.load(f)
    sizes = ", ".join(f"{name} on {len(ev)} rows" for name, ev in data["calls"])
    print(f"calls replayed: {sizes} ({data['scenario'].name}, {len(data['scenario'].skus)} SKUs)")
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"before": str(optimizer_at(a.before, Path(tmp))), "after": str(ROOT)}
        results: dict[str, list[dict]] = {"before": [], "after": []}
        for r in range(a.repeats):
            for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
                out = subprocess.run([sys.executable, __file__, "--worker", roots[name], str(tables)],
                                     capture_output=True, text=True, check=True, cwd=ROOT)
                res = json.loads(out.stdout.strip().splitlines()[-1])
                results[name].append(res)
                print(f"  {name:6s} repeat {r + 1}: {res['cpu']:6.2f} CPU-s, {res['wall']:6.2f} s wall, "
                      f"{res['highs_calls']:4d} HiGHS runs, {res['builds']:3d} models built", flush=True)
    for name in ("before", "after"):
        rs = results[name]
        print(f"{name:6s} (optimizer {'@ ' + a.before if name == 'before' else 'of the working tree'}): median "
              f"{statistics.median(x['cpu'] for x in rs):.2f} CPU-s, {statistics.median(x['wall'] for x in rs):.2f} s wall, "
              f"{statistics.median(x['highs_calls'] for x in rs):.0f} HiGHS runs, "
              f"{statistics.median(x['builds'] for x in rs):.0f} models built")
    b, f = results["before"][0]["frontier"], results["after"][0]["frontier"]
    if b and f:
        pairs = {}
        for tgt, cost in zip(b["target"], b["cost_logistics"]):
            pairs.setdefault(str(tgt), [None, None])[0] = cost
        for tgt, cost in zip(f["target"], f["cost_logistics"]):
            pairs.setdefault(str(tgt), [None, None])[1] = cost
        diffs = [abs(x - y) / max(abs(x), 1e-9) for x, y in pairs.values() if x is not None and y is not None]
        rel = max(diffs) if diffs else float("nan")
        print(f"final frontier: {len(pairs)} rows; largest relative difference of cost_logistics "
              f"before/after {rel:.2e}; largest gap before {max(b['gap']):.2e}, after {max(f['gap']):.2e}")


if __name__ == "__main__":
    main()
