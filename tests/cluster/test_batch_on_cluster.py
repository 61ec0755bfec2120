"""Issue 17, `tradeoff batch` on a real Dask cluster (a `dask scheduler` and `dask worker` processes
on 127.0.0.1, tests/cluster/real_cluster.py, killed by pid with SIGKILL) and the batch's way out:

- the scheduler killed mid-batch: one line, exit 1, batch.csv says `interrupted` for every scenario
  not finished, the workers stop within seconds and no result folder appears after the batch exited;
- the batch process killed (SIGKILL) mid-batch: its workers stop their scenarios without writing
  them (their work folders go within seconds, no result folder appears), and the next batch on the
  same OUT says which scenarios an earlier batch left interrupted;
- the batch stopped by SIGTERM: one line, exit 1, batch.csv says `interrupted`;
- no scheduler listening: `run` and `batch` give the same one line and exit status, nothing written
  (no batch.csv saying `pending`);
- a worker running other code is refused by `batch` as by `run`, before batch.csv is written;
- a CSV a worker cannot see (a tmpfs over its folder, in the worker's own mount namespace) makes its
  scenario's row `failed: <path>: not visible from worker W: ...`;
- batch.csv and the result files are readable by the group (0644 under umask 022).

Only the engine's own messages are asserted, never a library's.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from real_cluster import (
    MID,
    ROOT,
    RealCluster,
    batch_rows,
    can_hide,
    command,
    finish,
    free_port,
    nothing_written,
    one_error_line,
    result_folders,
    run,
    scenario_text,
    skus_csv_text,
    wait_until,
    work_started,
    write,
)

from tradeoff import batch


def _three_scenarios(folder: Path) -> list[Path]:
    return [write(folder, f"{name}.yaml", scenario_text(name, **MID)) for name in ("b1", "b2", "b3")]


def test_the_scheduler_killed_mid_batch(tmp_path):
    src = tmp_path / "scenarios"
    _three_scenarios(src)
    with RealCluster(tmp_path / "cluster", workers=2) as cluster:
        out = tmp_path / "out"
        proc = command(["batch", src, "--out", out, "--executor", "dask", "--scheduler", cluster.address], tmp_path)
        wait_until(lambda: work_started(out) or proc.poll() is not None, 90, what="a scenario's first chunk")
        assert proc.poll() is None, "the batch ended before the scheduler could be killed"
        cluster.kill_scheduler()
        rc, _, stderr = finish(proc, tmp_path)
        line = one_error_line(rc, stderr, cluster)
        after_exit = result_folders(out)
        # The workers lost their scheduler: each stops its scenario at its next stage and exits.
        wait_until(lambda: all(w.poll() is not None for w in cluster.workers), 20, what="the workers' exit")
    assert line.startswith(f"error: lost the Dask scheduler at {cluster.address} during the work"), line
    assert "batch.csv marks the" in line and "interrupted" in line, line
    rows = batch_rows(out)
    assert {r["status"] for r in rows.values()} <= {"ok", "interrupted"}, rows
    interrupted = {name for name, r in rows.items() if r["status"] == "interrupted"}
    assert interrupted, rows
    for name in interrupted:
        assert "the batch stopped before this scenario finished" in rows[name]["message"]
    # nothing written after the batch had gone, and nothing at all for the interrupted scenarios
    assert result_folders(out) == after_exit == {rows[n]["folder"] for n in rows if rows[n]["status"] == "ok"}
    assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp-")]


def test_the_batch_process_killed_its_workers_write_nothing_afterwards(tmp_path):
    src = tmp_path / "scenarios"
    _three_scenarios(src)
    with RealCluster(tmp_path / "cluster", workers=2) as cluster:
        out = tmp_path / "out"
        proc = command(["batch", src, "--out", out, "--executor", "dask", "--scheduler", cluster.address], tmp_path)
        wait_until(lambda: work_started(out) or proc.poll() is not None, 90, what="a scenario's first chunk")
        assert proc.poll() is None, "the batch ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        after_exit = result_folders(out)
        # The scheduler cancels the dead client's tasks; each worker stops its scenario at its next
        # stage, writes no result and removes its work folder.
        seconds = wait_until(lambda: not [p for p in out.iterdir() if p.name.startswith(".tmp-")], 20,
                             what="the workers' stop (their work folders removed)")
        time.sleep(1)
        assert result_folders(out) == after_exit, "a result folder appeared after the batch had gone"
        assert seconds < 10, f"{seconds:.1f} s"
        rows = batch_rows(out)  # killed outright: it could not mark anything on its way out
        left = {name for name, r in rows.items() if r["status"] == "pending"}
        assert left

        # The next batch on the same OUT runs what was left, and says it was interrupted.
        rc, _, stderr = run(["batch", src, "--out", out, "--executor", "dask", "--scheduler", cluster.address],
                            tmp_path)
        assert rc == 0, stderr[-3000:] + cluster.log()
    rows = batch_rows(out)
    assert {r["status"] for r in rows.values()} == {"ok"}
    for name in left:
        assert "interrupted in an earlier batch" in rows[name]["message"], rows[name]
        assert "interrupted in an earlier batch" in stderr


def test_a_batch_stopped_by_sigterm_marks_what_was_running_interrupted(tmp_path):
    # The way out is the executor's, not the cluster's: shown with local worker processes.
    src = tmp_path / "scenarios"
    _three_scenarios(src)
    out = tmp_path / "out"
    proc = command(["batch", src, "--out", out, "--jobs", "2"], tmp_path)
    wait_until(lambda: work_started(out) or proc.poll() is not None, 90, what="a scenario's first chunk")
    assert proc.poll() is None, "the batch ended before it could be stopped"
    proc.send_signal(signal.SIGTERM)
    rc, _, stderr = finish(proc, tmp_path)
    line = one_error_line(rc, stderr)
    assert line.startswith("error: stopped by SIGTERM; batch.csv marks the "), line
    rows = batch_rows(out)
    assert {r["status"] for r in rows.values()} <= {"ok", "interrupted"} and "interrupted" in \
        {r["status"] for r in rows.values()}, rows
    assert result_folders(out) == {r["folder"] for r in rows.values() if r["status"] == "ok"}


def test_no_scheduler_run_and_batch_give_the_same_line_and_status(tmp_path):
    path = write(tmp_path, "mid.yaml", scenario_text("mid", 3, periods=40, replications=2))
    address = f"tcp://127.0.0.1:{free_port()}"  # bound and closed: nothing listens there
    lines = {}
    for name in ("run", "batch"):
        out = tmp_path / f"out-{name}"
        start = time.monotonic()
        rc, _, stderr = run([name, path, "--out", out, "--executor", "dask", "--scheduler", address], tmp_path)
        seconds = time.monotonic() - start
        lines[name] = one_error_line(rc, stderr)
        assert seconds < 10, f"{name}: {seconds:.1f} s"  # the default timeout is 3 s
        nothing_written(out)  # batch too: no batch.csv saying `pending`
    assert lines["run"] == lines["batch"]
    assert lines["run"].startswith(f"error: cannot reach the Dask scheduler at {address} within 3 s"), lines


def test_a_worker_running_other_code_is_refused_by_batch_before_batch_csv_is_written(tmp_path):
    path = write(tmp_path, "mid.yaml", scenario_text("mid", 3, periods=40, replications=2))
    salted = {1: {"TRADEOFF_FINGERPRINT_SALT": "previous commit"}}
    with RealCluster(tmp_path / "cluster", workers=2, worker_env=salted) as cluster:
        out = tmp_path / "out"
        rc, _, stderr = run(["batch", path, "--out", out, "--executor", "dask", "--scheduler", cluster.address],
                            tmp_path)
        line = one_error_line(rc, stderr, cluster)
    assert line.startswith(f"error: worker {cluster.worker_addresses[1]} runs other code: engine fingerprint "), line
    nothing_written(out)


@pytest.mark.skipif(not can_hide(), reason="needs a mount namespace (root with CAP_SYS_ADMIN) to hide a folder "
                                           "from one worker process on this machine")
def test_a_csv_a_worker_cannot_see_is_named_with_the_worker(tmp_path):
    data = tmp_path / "data"
    csv_path = write(data, "skus.csv", skus_csv_text(3))
    path = write(tmp_path / "scenarios", "hidden.yaml", scenario_text("hidden", 3, 40, 2, skus_csv="../data/skus.csv"))
    with RealCluster(tmp_path / "cluster", workers=1, hide={0: data}) as cluster:
        out = tmp_path / "out"
        rc, _, stderr = run(["batch", path, "--out", out, "--executor", "dask", "--scheduler", cluster.address],
                            tmp_path)
        assert rc == 4, stderr[-3000:] + cluster.log()
    row = batch_rows(out)["hidden.yaml"]
    assert row["status"] == "failed"
    assert row["message"] == (f"{csv_path}: not visible from worker {cluster.worker_addresses[0]}: the inputs must be "
                              "on a file system every worker sees")
    assert result_folders(out) == set()


def test_a_file_a_dask_worker_cannot_see_is_named_with_the_worker(tmp_path, monkeypatch):
    seen = tmp_path / "skus.csv"
    seen.write_text("id\n", encoding="utf-8")
    job = batch.BatchJob(0, str(tmp_path / "s.yaml"), str(tmp_path), "s", "hash",
                         inputs=(str(seen), str(tmp_path / "elsewhere" / "history.csv")))
    assert batch.not_visible(job) is None  # not on a Dask worker: the batch process's own file system
    monkeypatch.setattr(batch, "_on_dask_worker", lambda: True)
    monkeypatch.setattr("tradeoff.executors.worker_name", lambda: "worker tcp://10.0.0.7:40123")
    assert batch.not_visible(job) == (f"{tmp_path / 'elsewhere' / 'history.csv'}: not visible from worker "
                                      "tcp://10.0.0.7:40123: the inputs must be on a file system every worker sees")
    values = batch.run_scenario(job)
    assert values["status"] == "failed" and "not visible from worker tcp://10.0.0.7:40123" in values["message"]


def test_validation_records_every_file_a_scenario_reads(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "skus.csv").write_text("id,unit_cost,price,demand.dist,demand.mean\na,5,9,poisson,4\n", encoding="utf-8")
    path = tmp_path / "s" / "c.yaml"
    path.parent.mkdir()
    path.write_text(scenario_text("c", 1, 40, 2, skus_csv="../data/skus.csv"), encoding="utf-8")
    planned, rows, _ = batch.validate_files([str(path)], tmp_path / "out")
    assert not rows
    assert planned[0].inputs == (str(path), str(data / "skus.csv"))


def test_batch_csv_and_result_files_are_readable_by_the_group(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(scenario_text("small", 2, 40, 2), encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "tradeoff.cli", "batch", str(path), "--out", str(out)], env=env,
                          capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022))
    assert done.returncode == 0, done.stderr
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert modes["batch.csv"] == 0o644  # not mkstemp's 0600
    files = {name: mode for name, mode in modes.items() if (out / name).is_file()}
    assert {"small/plan.csv", "small/summary.json", "small/report.html"} <= files.keys()
    assert set(files.values()) == {0o644}, files
    assert {mode for name, mode in modes.items() if (out / name).is_dir()} == {0o755}, modes


def test_a_stopped_batch_is_one_line_naming_what_batch_csv_says():
    from tradeoff.environment import SchedulerLostError, describe

    stopped = batch.BatchStopped(str(SchedulerLostError("tcp://h:8786")), 2)
    assert describe(stopped) == (f"{SchedulerLostError('tcp://h:8786')}; batch.csv marks the 2 unfinished scenarios "
                                 "interrupted (finished ones are kept): run the same batch again to finish them")
