"""No process outlives its command: after SIGKILL of the command, every process it started (pool
workers, the fork server, the resource tracker, Dask LocalCluster workers) is gone within 2 s.

Each test starts a real command (or a Python caller) as a subprocess, waits until its workers exist
and one is busy (it has used BUSY_CPU_SECONDS of CPU: a fork-server worker starts with the engine
imported, so that is simulation; a Dask worker's first seconds include its task's own imports and
loading), records every descendant, kills the command with SIGKILL (it can clean nothing up) and
polls the recorded processes. A process counts as gone when it no longer exists or is a zombie (it
has exited; only its reaping by init is left). The commands run scenarios/bench/bench_1000.yaml
(1,000 SKUs: the simulation lasts well past the kill).

Before the fix, the workers of `run --jobs 2`, `compare --jobs 2` and `simulation.evaluate(jobs=2)`
ran on for minutes holding ~750 MB: they watched their parent, the fork server, which itself lives
as long as any worker holds its pipe. Dask's own watch (a thread in each worker) kept the LocalCluster
commands right, but a worker holding the GIL (compiled code, one long C call) cannot run a thread:
the last test holds it on purpose, and Dask workers then ran on too (tradeoff.lifeline: the kernel's
parent-death signal needs no thread).

Whatever a test's outcome, the processes it recorded are killed at its end (by pid, as recorded).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scenarios" / "bench" / "bench_1000.yaml"
GRACE_SECONDS = 2.0  # the guarantee
BUSY_CPU_SECONDS = 3.0  # a worker past start-up (imports take < 2 s of CPU): simulating
START_TIMEOUT = 60.0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guarantee is for Linux")


def _cpu(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


def _role(p: psutil.Process, command_pid: int) -> str:
    try:
        cmdline = " ".join(p.cmdline())
        ppid = p.ppid()
    except psutil.Error:
        return "gone"
    if "resource_tracker" in cmdline:
        return "resource tracker"
    if "forkserver" in cmdline and ppid == command_pid:
        return "fork server"
    return "worker"


def _gone(p: psutil.Process) -> bool:
    try:
        return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _start(args: list[str], tmp_path: Path, env: dict | None = None) -> subprocess.Popen:
    cmd = [sys.executable, *args]
    return subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "stderr.txt", "wb"),
                            env={**os.environ, **(env or {})}, start_new_session=True)


def _wait_until_mid_simulation(proc: subprocess.Popen, tmp_path: Path, workers: int) -> list[psutil.Process]:
    """Every descendant of the command, once `workers` workers exist and one of them is busy."""
    command = psutil.Process(proc.pid)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the command ended (status {proc.returncode}) before its workers were busy: "
                        f"{(tmp_path / 'stderr.txt').read_text(errors='replace')[-2000:]}")
        family = command.children(recursive=True)
        found = [p for p in family if _role(p, proc.pid) == "worker"]
        if len(found) >= workers and any(_cpu(p) >= BUSY_CPU_SECONDS for p in found):
            return command.children(recursive=True)
        time.sleep(0.2)
    pytest.fail(f"no busy worker after {START_TIMEOUT} s")


def _kill_and_watch(proc: subprocess.Popen, tmp_path: Path, workers: int = 2) -> None:
    family: list[psutil.Process] = []
    try:
        family = _wait_until_mid_simulation(proc, tmp_path, workers)
        roles = {p.pid: _role(p, proc.pid) for p in family}
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        killed = time.monotonic()
        alive = family
        while alive and time.monotonic() - killed < GRACE_SECONDS:
            time.sleep(0.05)
            alive = [p for p in alive if not _gone(p)]
        survivors = [(p.pid, roles[p.pid]) for p in alive]
        assert not survivors, (f"{len(survivors)} of {len(family)} processes still running "
                               f"{time.monotonic() - killed:.1f} s after the command was killed: {survivors}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in family:  # never leave a test's processes behind, whatever happened
            try:
                p.kill()
            except psutil.Error:
                pass


def test_run_with_two_jobs_leaves_no_worker_when_killed(tmp_path):
    proc = _start(["-m", "tradeoff.cli", "run", str(BENCH), "--out", str(tmp_path / "out"), "--jobs", "2"], tmp_path)
    _kill_and_watch(proc, tmp_path)


def test_compare_with_two_jobs_leaves_no_worker_when_killed(tmp_path):
    proc = _start(["-m", "tradeoff.cli", "compare", str(BENCH), "--out", str(tmp_path / "out"), "--jobs", "2"],
                  tmp_path)
    _kill_and_watch(proc, tmp_path)


def test_run_on_a_dask_local_cluster_leaves_no_worker_when_killed(tmp_path):
    proc = _start(["-m", "tradeoff.cli", "run", str(BENCH), "--out", str(tmp_path / "out"), "--jobs", "2",
                   "--executor", "dask"], tmp_path)
    _kill_and_watch(proc, tmp_path)


def test_batch_on_a_dask_local_cluster_leaves_no_worker_when_killed(tmp_path):
    proc = _start(["-m", "tradeoff.cli", "batch", str(BENCH), "--out", str(tmp_path / "out"), "--jobs", "2",
                   "--executor", "dask"], tmp_path)
    _kill_and_watch(proc, tmp_path)


KERNEL_POOL_SCRIPT = """
import sys
import optimizer, scenarios, simulation
from tradeoff.executors import get_executor

if __name__ == "__main__":
    scenario = scenarios.load(sys.argv[1], overrides={"replications": 40})  # simulating lasts > 15 s
    with get_executor("local", jobs=2) as pool:
        simulation.evaluate(scenario, optimizer.initial_candidates(scenario), executor=pool)
"""


def test_the_kernel_pool_of_simulation_evaluate_leaves_no_worker_when_its_caller_is_killed(tmp_path):
    proc = _start(["-c", KERNEL_POOL_SCRIPT, str(BENCH)], tmp_path)
    _kill_and_watch(proc, tmp_path)


HOLD_GIL_SCRIPT = """
import sys
from tradeoff.executors import get_executor

if __name__ == "__main__":
    with get_executor(sys.argv[1], jobs=2) as pool:
        # sum over a range is one C call that never releases the GIL (about an hour of it)
        pool.map(sum, [range(10**12), range(10**12)])
"""


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_a_worker_holding_the_gil_dies_with_its_owner(tmp_path, kind):
    script = tmp_path / "hold_gil.py"
    script.write_text(HOLD_GIL_SCRIPT, encoding="utf-8")
    proc = _start([str(script), kind], tmp_path)
    _kill_and_watch(proc, tmp_path)
