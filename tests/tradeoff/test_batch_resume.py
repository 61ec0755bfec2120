"""Kill and resume: a batch killed with SIGKILL in the middle of its work, then run again, ends with
exactly the results of a batch that was never interrupted; nothing half-written is taken for a
finished result and nothing finished is run twice.

The batch runs in a subprocess with the stand-in runner of test_batch (each scenario sleeps a
little, so the kill lands while some scenarios are finished and others are running)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_batch import fake_run, scenario_data, write_scenario

from tradeoff.batch import run_batch
from tradeoff.results_io import MANIFEST, finished, read_manifest

HERE = Path(__file__).resolve().parent
DRIVER = """
import sys
sys.path.insert(0, {here!r})
from test_batch import fake_run
from tradeoff.batch import run_batch
run_batch([{src!r}], {out!r}, jobs=2, runner=fake_run)
"""


def comparable(out: Path) -> dict:
    """What must not depend on interruptions: each result folder's files (summary.json without the
    worker's pid, the manifest without summary.json's size and hash) and batch.csv without timings,
    the reused flag and the message."""
    found = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        for f in sorted(folder.iterdir()):
            if f.name == "summary.json":
                data = json.loads(f.read_text())
                data.pop("pid")
                found[f"{folder.name}/{f.name}"] = data
            elif f.name == MANIFEST:  # summary.json's recorded size and hash change with the pid
                entries = read_manifest(folder)
                entries["summary.json"] = None
                found[f"{folder.name}/{f.name}"] = entries
            else:
                found[f"{folder.name}/{f.name}"] = f.read_bytes()
    with open(out / "batch.csv", newline="") as fh:
        rows = [{k: v for k, v in r.items() if not k.startswith("seconds") and k not in ("reused", "message")}
                for r in csv.DictReader(fh)]
    found["batch.csv"] = rows
    return found


def test_a_batch_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path):
    src = tmp_path / "scenarios"
    src.mkdir()
    for i in range(5):
        write_scenario(src, f"s{i}.yaml", scenario_data(f"scen-{i}", "sleep=0.5", unit_costs=(1.0 + i, 2.0)))
    write_scenario(src, "z_infeasible.yaml", scenario_data("never", "infeasible"))

    reference = tmp_path / "reference"
    assert run_batch([src], reference, jobs=2, runner=fake_run).exit_status == 4

    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER.format(here=str(HERE), src=str(src), out=str(out))],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if sum((out / f"scen-{i}" / "summary.json").exists() for i in range(5)) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    time.sleep(1.0)  # the orphaned workers notice their parent is gone within half a second

    finished_before = {p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")
                       and finished(p, json.loads((p / "summary.json").read_text())["scenario_hash"])}
    assert 2 <= len(finished_before) < 5
    mtimes = {name: (out / name / "summary.json").stat().st_mtime_ns for name in finished_before}

    outcome = run_batch([src], out, jobs=2, runner=fake_run)
    reused = {r["folder"] for r in outcome.rows if r["reused"]}
    assert reused == finished_before  # finished ones were not run again ...
    assert all((out / n / "summary.json").stat().st_mtime_ns == mtimes[n] for n in finished_before)
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]  # ... and no leftovers remain
    assert comparable(out) == comparable(reference)
