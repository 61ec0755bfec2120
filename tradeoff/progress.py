"""Progress of a batch: what the planner sees while many scenarios run, and how workers tell it.

Display (chosen by the command line, never by the library):
- `RichBatchProgress`: on a terminal, one bar for the batch and one bar per running scenario
  (its current stage: load, candidates, simulate, ... write);
- `LogBatchProgress`: anywhere else (CI, cron, logs), plain log lines: one when a scenario starts,
  one when it ends with its status and headline figures;
- `BatchProgress`: the silent base class (the library default).

Channels carry a running scenario's stage from its worker process back to the display:
`open_channel(executor, handler)` gives a picklable `reporter(key, stage, done, total)` for the
worker. Locally it sends over a `multiprocessing.connection` socket (no extra process); on Dask it
is a worker event (`log_event`) the client is subscribed to, so it also works across machines.
Progress is best effort: a lost message never affects a result.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from typing import Any

# The stages of tradeoff.pipeline.run, in order; a scenario's bar advances one step per stage.
STAGES = ("load", "candidates", "simulate", "select", "refine", "contenders", "frontier", "verify", "audit", "write")

Handler = Callable[[Any, str, int, int], None]  # (key, stage, done, total)


# --------------------------------------------------------------------------- displays


class BatchProgress:
    """Silent display; subclasses draw bars or log lines. All methods may be called from any thread."""

    def batch_started(self, to_run: int, reused: int, invalid: int, workers: str) -> None:
        """The batch is about to run `to_run` scenarios (`reused` finished ones skipped, `invalid` refused)."""

    def invalid_file(self, file: str, problems: list[str]) -> None:
        """A file failed validation; `problems` are its problem lines (file, YAML path, value, rule)."""

    def scenario_stage(self, key: Any, label: str, stage: str, done: int, total: int) -> None:
        """A running scenario reached `stage` (`done` of `total` steps inside it)."""

    def scenario_finished(self, key: Any, label: str, row: dict) -> None:
        """A scenario ended; `row` is its batch.csv row (status, message, seconds_run, headline figures)."""

    def close(self) -> None:
        """Stop drawing."""


def headline(row: dict) -> str:
    """`ok in 12.3 s: cost_total 812.40, fill_rate 0.9612` or `failed: <message>` for a log line."""
    status = row.get("status", "")
    if status != "ok":
        return f"{status}: {row.get('message', '')}"
    parts = [f"ok in {row['seconds_run']:.1f} s" if row.get("seconds_run") not in (None, "") else "ok"]
    figures = []
    if row.get("cost_total") not in (None, ""):
        figures.append(f"cost_total {float(row['cost_total']):.2f}")
    if row.get("service_achieved") not in (None, ""):
        figures.append(f"{row.get('service_metric') or 'service'} {float(row['service_achieved']):.4f}")
    if row.get("reused"):
        figures.append("already finished")
    return parts[0] + (": " + ", ".join(figures) if figures else "")


class LogBatchProgress(BatchProgress):
    """Plain log lines (for logs and CI): a line when a scenario starts and when it ends."""

    def __init__(self, logger: logging.Logger | None = None):
        self.log = logger or logging.getLogger("tradeoff.batch")
        self._lock = threading.Lock()
        self._started: set = set()
        self._finished: set = set()
        self._to_run = 0

    def batch_started(self, to_run, reused, invalid, workers):
        self._to_run = to_run
        self.log.info("batch: %d to run, %d already finished, %d invalid; %s", to_run, reused, invalid, workers)

    def invalid_file(self, file, problems):
        self.log.warning("%s: INVALID (%d problem%s)", file, len(problems), "" if len(problems) == 1 else "s")
        for line in problems:
            self.log.warning("  %s", line)

    def scenario_stage(self, key, label, stage, done, total):
        with self._lock:
            if key in self._started or key in self._finished:
                return
            self._started.add(key)
        self.log.info("start %s", label)

    def scenario_finished(self, key, label, row):
        with self._lock:
            self._finished.add(key)
            n = len(self._finished)
        level = logging.INFO if row.get("status") == "ok" else logging.WARNING
        self.log.log(level, "[%d/%d] %s: %s", n, self._to_run, label, headline(row))


class RichBatchProgress(BatchProgress):
    """Bars on a terminal: the batch (scenarios done / to run) and one per running scenario."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._console = console or Console(stderr=True)
        self._bars = Progress(
            SpinnerColumn(), TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=self._console, transient=False,
        )
        self._lock = threading.Lock()
        self._running: dict[Any, Any] = {}
        self._finished: set = set()
        self._batch = None
        self._bars.start()

    def batch_started(self, to_run, reused, invalid, workers):
        self._console.print(f"batch: {to_run} to run, {reused} already finished, {invalid} invalid; {workers}")
        self._batch = self._bars.add_task("batch", total=max(to_run, 1))

    def invalid_file(self, file, problems):
        from rich.markup import escape

        from scenarios.errors import excerpt

        self._console.print(f"[red]{escape(excerpt(str(file)))}: INVALID[/red]", highlight=False)
        for line in problems:
            self._console.print(f"  {line}", highlight=False, markup=False)

    def scenario_stage(self, key, label, stage, done, total):
        step = STAGES.index(stage) if stage in STAGES else None
        with self._lock:
            if key in self._finished:
                return  # a late message from a scenario already done
            task = self._running.get(key)
            if task is None:
                task = self._running[key] = self._bars.add_task(label, total=len(STAGES))
        if step is None:
            self._bars.update(task, description=f"{label}: {stage}")
        else:
            fraction = (done / total) if total else 0.0
            self._bars.update(task, description=f"{label}: {stage}", completed=step + min(1.0, fraction))

    def scenario_finished(self, key, label, row):
        with self._lock:
            self._finished.add(key)
            task = self._running.pop(key, None)
        if task is not None:
            self._bars.remove_task(task)
        style = "green" if row.get("status") == "ok" else "red"
        from rich.markup import escape

        # file names and messages quote user text: escaped, never read as rich markup
        self._console.print(f"[{style}]{escape(label)}[/{style}]: {escape(headline(row))}", highlight=False)
        if self._batch is not None:
            self._bars.advance(self._batch)

    def close(self):
        self._bars.stop()


# --------------------------------------------------------------------------- channels


_connections: dict[Any, Any] = {}  # per worker process: the open connection to each listener


class SocketReporter:
    """Worker side of a local channel: sends (key, stage, done, total) to the batch process."""

    def __init__(self, address: Any, family: str, authkey: bytes):
        self.address = address
        self.family = family
        self.authkey = authkey

    def __call__(self, key: Any, stage: str, done: int, total: int) -> None:
        from multiprocessing.connection import Client

        conn = _connections.get(self.address)
        try:
            if conn is None:
                conn = _connections[self.address] = Client(self.address, family=self.family, authkey=self.authkey)
            conn.send((key, stage, int(done), int(total)))
        except (OSError, EOFError, ValueError):
            _connections[self.address] = None  # the batch process is gone or busy; progress is optional


class SocketChannel:
    """Batch side of a local channel: a listener whose threads hand each message to `handler`."""

    def __init__(self, handler: Handler):
        from multiprocessing.connection import Listener

        self._handler = handler
        family = "AF_UNIX" if hasattr(__import__("socket"), "AF_UNIX") and os.name == "posix" else "AF_INET"
        self._authkey = secrets.token_bytes(16)
        self._listener = Listener(family=family, authkey=self._authkey)
        self.reporter = SocketReporter(self._listener.address, family, self._authkey)
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="tradeoff-progress", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError, ValueError):
                if self._closed:
                    return
                continue  # a worker that died during the handshake
            if self._closed:
                conn.close()
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn) -> None:
        with conn:
            while not self._closed:
                try:
                    key, stage, done, total = conn.recv()
                except (OSError, EOFError, ValueError):
                    return
                try:
                    self._handler(key, stage, done, total)
                except Exception:  # noqa: BLE001 - a display problem must never stop the batch
                    logging.getLogger(__name__).debug("progress handler failed", exc_info=True)

    def close(self) -> None:
        """Stop listening (wakes the accepting thread with a last connection of its own)."""
        if self._closed:
            return
        self._closed = True
        # A bare socket, not multiprocessing's Client: Client waits for the listener's challenge, and
        # the accepting thread may already have returned (a worker that died in its handshake after
        # _closed was set), which left close() waiting for ever. Connecting never waits for accept.
        import socket

        family = socket.AF_UNIX if self.reporter.family == "AF_UNIX" else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as wake:
                wake.settimeout(2)
                wake.connect(self._listener.address)
        except OSError:
            pass
        self._thread.join(timeout=2)
        self._listener.close()


class DaskReporter:
    """Worker side of a Dask channel: a worker event on the batch's topic."""

    def __init__(self, topic: str):
        self.topic = topic

    def __call__(self, key: Any, stage: str, done: int, total: int) -> None:
        try:
            from distributed import get_worker

            get_worker().log_event(self.topic, [key, stage, int(done), int(total)])
        except (ValueError, ImportError, TypeError):
            pass  # not on a Dask worker, or an unserialisable key: progress is optional


class DaskChannel:
    """Batch side of a Dask channel: the client subscribed to the topic the workers log to."""

    def __init__(self, client, handler: Handler):
        self._client = client
        self.topic = f"tradeoff-progress-{secrets.token_hex(6)}"
        self.reporter = DaskReporter(self.topic)

        def on_event(event) -> None:
            key, stage, done, total = event[1]
            try:
                handler(key, stage, done, total)
            except Exception:  # noqa: BLE001
                logging.getLogger(__name__).debug("progress handler failed", exc_info=True)

        client.subscribe_topic(self.topic, on_event)

    def close(self) -> None:
        """Unsubscribe (idempotent)."""
        if self._client is not None:
            try:
                self._client.unsubscribe_topic(self.topic)
            except Exception:  # noqa: BLE001 - the cluster may already be gone
                pass
            self._client = None


class DirectChannel:
    """Same-process channel (jobs=1 in this process): the reporter is the handler itself."""

    def __init__(self, handler: Handler):
        self.reporter = handler

    def close(self) -> None:
        """Nothing to release."""


def open_channel(executor, handler: Handler):
    """A channel from `executor`'s workers to `handler`: `.reporter` (picklable, for the workers)
    and `.close()`. Dask executors get a worker-event channel, process pools a socket."""
    if getattr(executor, "kind", "") == "dask":
        return DaskChannel(executor.client, handler)
    if getattr(executor, "in_process", False):
        return DirectChannel(handler)
    return SocketChannel(handler)
