"""A real Dask cluster on 127.0.0.1 for the tests of issue 17: a `dask scheduler` process and
`dask worker` processes (no nanny, one thread each), started with subprocess and killed by pid.

Every process gets a parent-death signal (SIGKILL when the test process exits), so a failing or
interrupted test leaves no scheduler or worker behind; `close()` kills what is still alive. The
workers run in their own working folder (not the test's), as on another machine, so a relative path
would not be seen by them. `hide=PATH` starts a worker in its own mount namespace with an empty
tmpfs over PATH: a folder the batch process sees and that worker does not (needs root and
CAP_SYS_ADMIN; `can_hide()` says whether this machine allows it). `nanny=True` starts the workers
under Dask's nanny, which starts a new worker process when one dies.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_test() -> None:
    from tradeoff.lifeline import set_parent_death_signal

    set_parent_death_signal(signal.SIGKILL)


def can_hide() -> bool:
    """True when a process can be started in a mount namespace of its own (root, CAP_SYS_ADMIN)."""
    try:
        done = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


class RealCluster:
    """`dask scheduler` + `workers` x `dask worker` on 127.0.0.1; `worker_env[i]` adds to the
    environment of worker i, `hide[i]` hides a folder from worker i (see the module doc)."""

    def __init__(self, base: Path, workers: int = 2, worker_env: dict[int, dict] | None = None,
                 hide: dict[int, Path] | None = None, nanny: bool = False):
        self.nanny = nanny
        self.base = Path(base)
        self.base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = self._spawn("scheduler", [
            sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(self.port),
            "--no-dashboard", "--dashboard-address", "127.0.0.1:0"])
        self.workers: list[subprocess.Popen] = []
        self.worker_addresses: list[str] = []
        for i in range(workers):
            self.start_worker((worker_env or {}).get(i), (hide or {}).get(i))
        self.wait_for_workers(workers)

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.base / f"{name}.log", "ab")
        home = self.base / f"{name}-cwd"
        home.mkdir(exist_ok=True)
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                       **(env or {})}
        try:
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=home, env=environment,
                                    preexec_fn=_die_with_test)
        finally:
            log.close()

    def start_worker(self, env: dict | None = None, hide: Path | None = None) -> subprocess.Popen:
        port = free_port()
        argv = [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1",
                "--nanny" if self.nanny else "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--worker-port", str(port)]
        if hide is not None:
            script = f"mount -t tmpfs tradeoff-hidden '{hide}' && exec \"$@\""
            argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *argv]
        worker = self._spawn(f"worker-{len(self.workers)}", argv, env)
        self.workers.append(worker)
        self.worker_addresses.append(f"tcp://127.0.0.1:{port}")
        return worker

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        """Until `n` workers are registered (with none, until the scheduler answers)."""
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            if n > 0:
                client.wait_for_workers(n, timeout=timeout)

    def kill_worker(self, i: int) -> None:
        self.workers[i].send_signal(signal.SIGKILL)
        self.workers[i].wait(timeout=10)

    def kill_worker_process(self, i: int) -> int:
        """With a nanny: SIGKILL the worker process nanny `i` runs (the nanny starts a new one); its pid."""
        import psutil

        children = psutil.Process(self.workers[i].pid).children()
        assert children, "the nanny runs no worker process"
        for child in children:
            child.send_signal(signal.SIGKILL)
        return children[0].pid

    def kill_workers(self) -> None:
        for i in range(len(self.workers)):
            self.kill_worker(i)

    def kill_scheduler(self) -> None:
        self.scheduler.send_signal(signal.SIGKILL)
        self.scheduler.wait(timeout=10)

    def log(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(self.base.glob("*.log")))

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def __enter__(self) -> RealCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(condition, timeout: float, step: float = 0.05, what: str = "the condition") -> float:
    """Poll `condition()` until true; the seconds it took. AssertionError naming `what` after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start


def scenario_text(name: str, n_skus: int, periods: int = 600, replications: int = 10, skus_csv: str | None = None) -> str:
    """A scenario of `n_skus` SKUs (Poisson demand, one truck, base stock and (s,S)) sized so that a
    run takes a few seconds: long enough to kill something in the middle of it. With `skus_csv`,
    the SKUs come from that file (write it with `skus_csv_text`)."""
    skus = (f"skus_csv: {skus_csv}\n" if skus_csv else "skus:\n" + "".join(
        f"  - {{id: s{i:02d}, unit_cost: {3 + i % 7}, price: {6 + (i % 7) * 2}, demand: {{dist: poisson, mean: {2 + i % 5}}}}}\n"
        for i in range(n_skus)))
    return (
        "format: 1\n"
        f"name: {name}\n"
        "seed: 2\n"
        f"horizon: {{periods: {periods}, warmup: 5}}\n"
        f"replications: {replications}\n"
        "costs: {order_cost: 15.0}\n"
        "customer_reaction: {wait: 0.5, lost_sale: 0.5}\n"
        "transport:\n"
        "  - {name: truck, lead_time: 2, cost_per_shipment: 10, cost_per_unit: 0.1}\n"
        "service: {frontier: [0.9, 0.95]}\n"
        "policies: {families: [base_stock, sS], review_periods: [0, 1]}\n" + skus
    )


def skus_csv_text(n_skus: int) -> str:
    return "id,unit_cost,price,demand.dist,demand.mean\n" + "".join(
        f"s{i:02d},{3 + i % 7},{6 + (i % 7) * 2},poisson,{2 + i % 5}\n" for i in range(n_skus))


# --------------------------------------------------------------------------- the command line
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")  # batch's progress lines when stderr is no terminal
ENV = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
       "TRADEOFF_WORKER_TIMEOUT": "2", "TRADEOFF_SCHEDULER_TIMEOUT": ""}


def command(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.Popen:
    """`python -m tradeoff.cli ARGS` started in `cwd`; its output goes to files there (no pipe to fill)."""
    out, err = open(cwd / "stdout.txt", "w"), open(cwd / "stderr.txt", "w")
    try:
        return subprocess.Popen([sys.executable, "-m", "tradeoff.cli", *map(str, args)], cwd=cwd, stdout=out,
                                stderr=err, env={**os.environ, **ENV, **(env or {})})
    finally:
        out.close()
        err.close()


def finish(proc: subprocess.Popen, cwd: Path, timeout: float = 120) -> tuple[int, str, str]:
    proc.wait(timeout=timeout)
    return proc.returncode, (cwd / "stdout.txt").read_text(), (cwd / "stderr.txt").read_text()


def run(args: list[str], cwd: Path, env: dict | None = None) -> tuple[int, str, str]:
    return finish(command(args, cwd, env), cwd)


def one_error_line(rc: int, stderr: str, cluster: RealCluster | None = None) -> str:
    """The command's single `error:` line, after checking exit 1, no traceback and nothing else on
    stderr but batch's log lines."""
    where = stderr[-3000:] + ("\n" + cluster.log() if cluster is not None else "")
    assert rc == 1, where
    lines = stderr.splitlines()
    assert "Traceback" not in stderr and not any(line.lstrip().startswith(('File "', "│", "╭")) for line in lines), where
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, where
    assert [line for line in lines if line not in errors and not LOG_LINE.match(line)] == [], where
    return errors[0]


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def batch_rows(out: Path) -> dict[str, dict]:
    with open(out / "batch.csv", newline="") as f:
        return {Path(r["file"]).name: r for r in csv.DictReader(f)}


def result_folders(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")} if out.is_dir() else set()


def nothing_written(out: Path) -> None:
    """No result folder and no staging left in `out` (which may not exist at all)."""
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == [], sorted(p.name for p in out.iterdir())


def work_started(out: Path) -> bool:
    """A run's work folder in `out` holds a chunk's candidates: the explore step of a chunk is done,
    the rest of the run (refine, verification, the final files) is still to come."""
    return any(out.glob(".tmp-*/chunk-*.arrow"))  # tradeoff.search.chunk_path


MID = dict(n_skus=16, periods=600, replications=10)  # a run of a few seconds on the cluster
