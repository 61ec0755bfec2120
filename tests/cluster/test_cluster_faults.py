"""Issue 17, cluster faults during `tradeoff run`, on a real Dask cluster: a `dask scheduler` and
`dask worker` processes on 127.0.0.1 (tests/cluster/real_cluster.py), killed by pid with SIGKILL
while the command line (a subprocess) works on them.

- one worker killed mid-run: the run still succeeds, plan.csv and frontier.csv byte-identical to a
  run in one local process (with --out relative to the command's folder, which the workers do not
  share);
- the only worker process killed under a nanny (the scenario scattered to it lost with it): the
  nanny starts a new one, the engine sends the scenario again, the run finishes with the local plan;
- every worker killed mid-run (the scenario lost with them, none back): one line, exit 1, nothing
  written;
- the scheduler killed mid-run: one line, exit 1, nothing written;
- a scheduler without any worker: one line once TRADEOFF_WORKER_TIMEOUT has passed, exit 1.

Only the engine's own messages are asserted, never a library's.
"""

from __future__ import annotations

import pickle
import time

import pytest
from real_cluster import (
    MID,
    RealCluster,
    command,
    finish,
    nothing_written,
    one_error_line,
    run,
    scenario_text,
    wait_until,
    work_started,
    write,
)

from tradeoff import environment
from tradeoff.environment import NoWorkersError, SchedulerLostError, WorkersLostError, describe


@pytest.fixture(scope="module")
def local_plan(tmp_path_factory) -> dict[str, bytes]:
    """plan.csv and frontier.csv of the MID scenario run in this one process."""
    import tradeoff

    base = tmp_path_factory.mktemp("local")
    tradeoff.run(str(write(base, "mid.yaml", scenario_text("mid", **MID))), out=base / "out", jobs=1)
    return {name: (base / "out" / "mid" / name).read_bytes() for name in ("plan.csv", "frontier.csv")}


def test_one_worker_killed_mid_run_the_run_succeeds_with_the_local_plan(tmp_path, local_plan):
    path = write(tmp_path, "mid.yaml", scenario_text("mid", **MID))
    with RealCluster(tmp_path / "cluster", workers=2) as cluster:
        out = tmp_path / "dask"
        # --out relative to the command's folder: the workers, in folders of their own, write the
        # run's work files in the same place all the same
        proc = command(["run", path, "--out", "dask", "--executor", "dask", "--scheduler", cluster.address,
                        "--jobs", "2"], tmp_path)
        wait_until(lambda: work_started(out) or proc.poll() is not None, 90, what="the run's first chunk")
        assert proc.poll() is None, "the run ended before a worker could be killed"
        cluster.kill_worker(0)
        rc, stdout, stderr = finish(proc, tmp_path)
        assert rc == 0, stderr[-3000:] + cluster.log()
    for name in ("plan.csv", "frontier.csv"):
        assert (out / "mid" / name).read_bytes() == local_plan[name], name


def test_the_scenario_lost_with_its_workers_is_sent_again(tmp_path, local_plan):
    # One worker under a nanny: its process killed, the scenario scattered to it is lost with it; the
    # nanny starts a new worker process, the engine sends the scenario again and the run finishes.
    path = write(tmp_path, "mid.yaml", scenario_text("mid", **MID))
    with RealCluster(tmp_path / "cluster", workers=1, nanny=True) as cluster:
        out = tmp_path / "dask"
        proc = command(["run", path, "--out", out, "--executor", "dask", "--scheduler", cluster.address, "--jobs", "2"],
                       tmp_path, env={"TRADEOFF_WORKER_TIMEOUT": "30"})
        wait_until(lambda: work_started(out) or proc.poll() is not None, 90, what="the run's first chunk")
        assert proc.poll() is None, "the run ended before the worker could be killed"
        cluster.kill_worker_process(0)
        rc, stdout, stderr = finish(proc, tmp_path)
        assert rc == 0, stderr[-3000:] + cluster.log()
    assert "the workers holding the shared objects were lost; sent them again" in stderr, stderr
    for name in ("plan.csv", "frontier.csv"):
        assert (out / "mid" / name).read_bytes() == local_plan[name], name


@pytest.mark.parametrize("kill", ["every worker", "the scheduler"])
def test_a_cluster_lost_mid_run_is_one_line_exit_1_nothing_written(tmp_path, kill):
    path = write(tmp_path, "mid.yaml", scenario_text("mid", **MID))
    with RealCluster(tmp_path / "cluster", workers=2) as cluster:
        out = tmp_path / "out"
        proc = command(["run", path, "--out", out, "--executor", "dask", "--scheduler", cluster.address, "--jobs", "2"],
                       tmp_path, env={"TRADEOFF_WORKER_TIMEOUT": "1"})
        wait_until(lambda: work_started(out) or proc.poll() is not None, 90, what="the run's first chunk")
        assert proc.poll() is None, "the run ended before the cluster could be killed"
        killed = time.monotonic()
        cluster.kill_workers() if kill == "every worker" else cluster.kill_scheduler()
        rc, stdout, stderr = finish(proc, tmp_path)
        seconds = time.monotonic() - killed
        line = one_error_line(rc, stderr, cluster)
    if kill == "every worker":
        # the scattered scenario went with them; no worker came back within TRADEOFF_WORKER_TIMEOUT=1
        assert line.startswith(f"error: all workers of the Dask cluster at {cluster.address} were lost"), line
        assert "within 1 s" in line, line
    else:
        assert line.startswith(f"error: lost the Dask scheduler at {cluster.address} during the work"), line
    assert "no result of it was written" in line
    assert seconds < 15, f"{seconds:.1f} s from the kill to the exit"
    nothing_written(out)


@pytest.mark.parametrize("error", [
    SchedulerLostError("tcp://h:8786"),
    WorkersLostError("tcp://h:8786", 10.0, data_lost=True),
    NoWorkersError("tcp://h:8786", 10.0),
    environment.ClusterCancelledError("tcp://h:8786", "chunk 3"),
    environment.Stopped("SIGTERM"),
])
def test_every_cluster_fault_is_one_line_of_the_engine(error):
    line = describe(error)
    assert line == str(error) and "\n" not in line
    assert "tcp://h:8786" in line or line == "stopped by SIGTERM"
    assert str(pickle.loads(pickle.dumps(error))) == line


def test_the_worker_timeout_is_checked_like_the_scheduler_timeout(monkeypatch):
    from scenarios.errors import ScenarioError

    monkeypatch.delenv(environment.WORKER_TIMEOUT_ENV, raising=False)
    assert environment.worker_timeout() == environment.DEFAULT_WORKER_TIMEOUT == 10.0
    monkeypatch.setenv(environment.WORKER_TIMEOUT_ENV, "2.5")
    assert environment.worker_timeout() == 2.5
    monkeypatch.setenv(environment.WORKER_TIMEOUT_ENV, "-1")
    with pytest.raises(ScenarioError, match=environment.WORKER_TIMEOUT_ENV):
        environment.worker_timeout()


def test_a_scheduler_without_workers_is_one_line(tmp_path):
    path = write(tmp_path, "mid.yaml", scenario_text("mid", 3, periods=40, replications=2))
    with RealCluster(tmp_path / "cluster", workers=0) as cluster:
        out = tmp_path / "out"
        start = time.monotonic()
        rc, _, stderr = run(["run", path, "--out", out, "--executor", "dask", "--scheduler", cluster.address], tmp_path,
                            env={"TRADEOFF_WORKER_TIMEOUT": "1"})
        seconds = time.monotonic() - start
        line = one_error_line(rc, stderr, cluster)
    assert line.startswith(f"error: the Dask scheduler at {cluster.address} has no workers (none joined within 1 s)")
    assert seconds < 10, f"{seconds:.1f} s"
    nothing_written(out)
