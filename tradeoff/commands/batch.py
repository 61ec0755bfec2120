"""`tradeoff batch FILE_OR_DIR...`: many scenarios, one result folder each, and OUT/batch.csv."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP (a `kill`, a closed terminal, a scheduler's job ending) raise
    tradeoff.environment.Stopped in this process while the batch runs, so that it leaves the way
    Ctrl-C does: the unfinished scenarios marked `interrupted` in batch.csv, its workers stopped, one
    line on stderr, exit 1 (instead of dying at once with batch.csv saying `pending`)."""
    import signal
    import threading

    from tradeoff.environment import Stopped

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def batch_display() -> Iterator:
    """Bars on a terminal (stderr is a tty), plain log lines on stderr otherwise (CI, cron, logs)."""
    from tradeoff.progress import LogBatchProgress, RichBatchProgress

    if sys.stderr.isatty():
        display = RichBatchProgress()
    else:
        logger = logging.getLogger("tradeoff.batch")
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        display = LogBatchProgress(logger)
    try:
        yield display
    finally:
        display.close()


def register(app: typer.Typer) -> None:
    """Add the `batch` command to the app."""

    @app.command("batch")
    def batch_command(
        inputs: List[Path] = typer.Argument(..., help="Scenario YAML files and folders of them (*.yaml, *.yml)."),
        out: Path = typer.Option(Path("results"), "--out", help="Results go to OUT/<scenario name>[+variant]/, the index to OUT/batch.csv."),
        jobs: int = typer.Option(1, "--jobs", help="Scenarios running at once (worker processes)."),
        executor: str = typer.Option("local", "--executor", help="local (process pool) or dask."),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786); default: a LocalCluster of --jobs workers."),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="PATH=VALUE override for every file (YAML value), repeatable."),
        variant: Optional[str] = typer.Option(None, "--variant", help="Named variants to apply to every file: NAME[,NAME]."),
        engine: str = typer.Option("kernel", "--engine", help="Simulation engine: kernel or simpy."),
    ) -> None:
        """Run many scenarios: every file is validated first (each invalid one reported), the valid
        ones run one per worker process, each result folder is written atomically, and OUT/batch.csv
        gets one row per file (status ok/invalid/infeasible/failed, or skipped for a template,
        message, timings, headline figures, rules missed out of sample). Re-running skips
        scenarios whose finished result has the same scenario hash.
        Exit 0: all ok; 4: some scenario invalid, infeasible or failed; 2: no valid file; 1: an
        environment or cluster failure (one line; batch.csv marks unfinished scenarios interrupted)."""
        from tradeoff.batch import run_batch

        with stop_signals_raise(), batch_display() as display:
            outcome = run_batch([str(p) for p in inputs], out, jobs=jobs, executor=executor, scheduler=scheduler,
                                overrides=list(set_ or []) or None, variants=variant, engine=engine, progress=display)
        c = outcome.counts
        parts = [f"{c['ok']} ok ({c['reused']} already finished)"] + [
            f"{c[s]} {s}" for s in ("invalid", "infeasible", "failed", "interrupted", "pending", "skipped") if c.get(s)
        ]
        typer.echo(f"{outcome.csv_path}: {len(outcome.rows)} scenario files: {', '.join(parts)}")
        if outcome.exit_status:
            sys.exit(outcome.exit_status)  # not typer.Exit: the dispatcher runs typer with standalone_mode=False
