"""Where independent pieces of work run: in this process, a local process pool, or a Dask cluster.

One seam for `run` (chunks of SKUs) and `batch` (whole scenarios). `get_executor(kind, jobs,
scheduler)` returns an `Executor` whose `map(fn, items)` returns `fn(item)` for every item, in input
order, whatever the executor and the number of workers: the work is a pure function of its item,
so results are identical everywhere.

- `local`, jobs=1: a plain loop in this process (no pool; easiest to debug and profile).
- `local`, jobs>1: a `concurrent.futures.ProcessPoolExecutor` whose workers are forked from a clean
  fork server that has imported the engine once ("forkserver"; "spawn" where there is none). Plain
  `fork` of this process is never used: numba's threads and `fork` do not mix.
- `dask`: a `dask.distributed.Client` on `scheduler` ("tcp://host:8786"), or on a `LocalCluster`
  of `jobs` single-threaded worker processes when no scheduler is given.

No worker outlives the process that started it, even one killed with SIGKILL: every pool worker
gets a parent-death signal and a watchdog on its owner, the fork server exits with its owner, and
LocalCluster workers load the same watch as a Dask preload (tradeoff.lifeline). A Dask scheduler
that cannot be reached within $TRADEOFF_SCHEDULER_TIMEOUT seconds (default 3) is
`tradeoff.environment.SchedulerUnreachableError`: one line on the command line, exit 1.

On Dask, before any work, every worker's code and environment is compared with this process's
(tradeoff.fingerprint) and a worker that differs is refused (ClusterMismatchError, naming it and
what differs); each task checks its worker again. The cluster's faults are the engine's errors, one
line each, exit 1 (tradeoff.environment): the scheduler lost (SchedulerLostError), every worker lost
and none back within $TRADEOFF_WORKER_TIMEOUT s (WorkersLostError; objects sent with `share` that
were lost with their workers are sent again when workers come back), no worker at the start
(NoWorkersError). The engine's own LocalCluster serves no web page unless $TRADEOFF_DASHBOARD names
an address for Dask's dashboard (docs/scaling.md).

A worker process that dies (killed, out of memory, a crash in compiled code) never drops an item
silently. Locally, the items the broken pool lost are re-run on fresh one-worker "lanes", one item
at a time per lane, so a death there is attributed to exactly one item; that item is retried once
on a fresh lane and, if its worker dies again, `WorkerLostError` names it (or, with
`lost="return"`, its slot holds a `LostItem`). On Dask the scheduler reschedules the tasks of a lost
worker; a task that kills its worker `allowed-failures` times (1 for our LocalCluster) raises
`KilledWorker`, reported the same way. An ordinary exception raised by `fn` is re-raised with a note
naming the item (Dask retries such a task once first, `retries=1`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "LostItem",
    "WorkerLostError",
    "describe_item",
    "get_executor",
]

KINDS = ("local", "dask")
# Workers never start with `fork` from this process: numba's and BLAS's threads do not survive it.
# "forkserver" forks each worker from a clean single-threaded server that has already imported the
# engine (PRELOAD), so a new worker costs milliseconds instead of seconds of imports; "spawn" where
# the platform has no forkserver (Windows).
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
# The engine's modules (the server imports them once; every worker then starts with them loaded),
# the compiled kernel included (numba's on-disk cache is then read once, not by every worker).
PRELOAD = ("tradeoff.pipeline", "optimizer", "scenarios.loader", "simulation", "simulation.kernel")
# Imported first by the fork server: it then exits when the process that started it does, and the
# workers it forked die with it (their parent-death signal); see tradeoff.lifeline.
LIFELINE = "tradeoff.lifeline"


class WorkerLostError(RuntimeError):
    """A worker process died while working on `item` (number `index` of the map), twice."""

    def __init__(self, index: int, item: Any, reason: str):
        self.index = index
        self.item = item
        self.reason = reason
        super().__init__(f"worker process died on item {index} ({describe_item(item)}), even after one retry: {reason}")


@dataclass(frozen=True)
class LostItem:
    """The slot of an item whose worker died twice, when `map(..., lost="return")` was asked."""

    index: int
    description: str
    reason: str


def worker_name() -> str:
    """This worker in messages: "worker <Dask address>" on a Dask worker, else "worker process <pid>
    on <host>"."""
    try:
        from distributed import get_worker

        return f"worker {get_worker().address}"
    except (ImportError, ValueError):
        import socket

        return f"worker process {os.getpid()} on {socket.gethostname()}"


def describe_item(item: Any, limit: int = 200) -> str:
    """A short human name for an item in messages: its `name` or `path` when it has one (or, for a
    tuple, its first part that has one), else repr."""
    if isinstance(item, tuple):
        named = [part for part in item if any(isinstance(getattr(part, a, None), str) for a in ("name", "path", "sku"))]
        if named:
            return describe_item(named[-1], limit)
    for attr in ("name", "path", "sku"):
        value = getattr(item, attr, None)
        if isinstance(value, str | os.PathLike):
            return str(value)
    if isinstance(item, str | os.PathLike):
        return str(item)
    text = repr(item)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _note(exc: BaseException, index: int, item: Any) -> BaseException:
    exc.add_note(f"(while working on item {index}: {describe_item(item)})")
    return exc


class Executor:
    """Runs `fn(item)` for many items. Use as a context manager: resources are released on exit.

    `workers`: how many items can run at the same time. `kind`: "local" or "dask".
    """

    kind: str = ""
    workers: int = 1

    def iter_completed(
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, lost: str = "raise"
    ) -> Iterator[tuple[int, Any]]:
        """Yield `(index, fn(items[index]))` as each item finishes (any order; each index once).

        `lost`: "raise" (WorkerLostError when an item's worker died twice) or "return" (yield a
        `LostItem` for it and go on). Closing the iterator early cancels the items not started.
        """
        raise NotImplementedError

    def share(self, obj: Any) -> Any:
        """A handle to a large object many items need (the scenario, say), to put inside the items:
        each task receives the object itself. On a process pool or Dask it is sent to every worker
        once rather than with every item; in this process the handle is the object."""
        return obj

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], *, lost: str = "raise") -> list:
        """`[fn(item) for item in items]`, computed on the workers, in input order."""
        items = list(items)
        out: list[Any] = [None] * len(items)
        for index, value in self.iter_completed(fn, items, lost=lost):
            out[index] = value
        return out

    def close(self) -> None:
        """Release the workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _check_lost(lost: str) -> None:
    if lost not in ("raise", "return"):
        raise ValueError(f"lost must be 'raise' or 'return', not {lost!r}")


# --------------------------------------------------------------------------- local


_SHARED: dict[int, Any] = {}  # in a pool worker: the objects shared with it (LocalExecutor.share), by token


def _init_worker(owner: int | None = None, shared: dict[int, bytes] | None = None) -> None:
    """Pool worker initializer: exit when the process that owns the pool (`owner`) is gone, and
    unpickle the objects shared with this pool (`shared`: token -> pickle), once per worker.

    A command killed with SIGKILL cannot shut its pool down; without the watch its workers would
    run on (for minutes, holding their memory) and a batch's workers would race the resumed batch
    writing the same result folder. See tradeoff.lifeline: the parent-death signal (the parent is
    the fork server, which exits with the owner) and a watchdog thread on the owner."""
    from tradeoff.lifeline import bind_to_owner

    bind_to_owner(owner)
    for token, data in (shared or {}).items():
        _SHARED[token] = pickle.loads(data)


def _shared_object(token: int) -> Any:
    return _SHARED[token]


class _Shared:
    """A handle to an object every worker of a LocalExecutor's pools received at its start: it
    pickles as its token alone and unpickles, in the worker, as the object itself."""

    __slots__ = ("token", "description")

    def __init__(self, token: int, description: str = ""):
        self.token = token
        self.description = description  # names the object in messages (describe_item of an item)

    def __repr__(self) -> str:
        return f"shared({self.description})"

    def __reduce__(self):
        return _shared_object, (self.token,)


def _preload_list(fn: Callable | None, extra: Sequence[str] = ()) -> list[str]:
    """What the fork server imports when it starts (it is one per process, so only the first pool's
    list counts): the main module, the engine, the module of the function mapped and `extra`. The server
    skips a module that is not installed (ImportError); one that fails otherwise would stop it, so
    a module is listed only if this process already imported it or it can be found."""
    import importlib.util
    import sys

    names = [*PRELOAD, getattr(fn, "__module__", None), *extra]
    ok = ["__main__", LIFELINE]  # tradeoff.lifeline first: the server then exits with its owner
    for name in dict.fromkeys(n for n in names if n and n not in ok):
        try:
            if name in sys.modules or importlib.util.find_spec(name) is not None:
                ok.append(name)
        except (ImportError, ValueError):
            continue
    return ok


class LocalExecutor(Executor):
    """This machine: a loop in this process (jobs=1) or a process pool (jobs>1; workers from the fork server).

    `fresh_process_per_item`: each item runs in a new worker process (the pool's
    `max_tasks_per_child=1`), even with jobs=1, so memory cannot grow over many items and a crash
    cannot take this process down; `batch` uses it, one process per scenario.
    """

    kind = "local"

    def __init__(self, jobs: int = 1, fresh_process_per_item: bool = False, preload: Sequence[str] = ()):
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.workers = int(jobs)
        self._per_item = fresh_process_per_item
        self._preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._shared: dict[int, bytes] = {}  # token -> pickle, given to every worker at its start
        self._handles: list[tuple[Any, _Shared]] = []  # (object shared, its handle)

    @property
    def in_process(self) -> bool:
        """True when items run in this very process (jobs=1 without fresh_process_per_item)."""
        return self.workers == 1 and not self._per_item

    def _new_pool(self, workers: int, fn: Callable | None = None) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(_START_METHOD)
        if _START_METHOD == "forkserver":
            context.set_forkserver_preload(_preload_list(fn, self._preload))
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(os.getpid(), dict(self._shared)),
            max_tasks_per_child=1 if self._per_item else None,
        )

    def share(self, obj: Any) -> Any:
        """`obj` itself in this process (jobs=1); with a pool, a handle that goes into the items as
        a few bytes while every worker unpickles `obj` once, when it starts (pool initializer). A
        pool started before this call is shut down (after its items), so later maps start workers
        that have `obj`; sharing the same object again returns its handle (no new workers)."""
        if self.in_process:
            return obj
        for shared, handle in self._handles:
            if shared is obj:
                return handle
        handle = _Shared(len(self._handles) + 1, describe_item(obj, limit=80))
        self._shared[handle.token] = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self._handles.append((obj, handle))  # holding obj keeps its id from being reused
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return handle

    def _shared_pool(self, fn: Callable) -> ProcessPoolExecutor:
        if self._closed:
            raise RuntimeError("executor is closed")
        if self._pool is None:
            self._pool = self._new_pool(self.workers, fn)
        return self._pool

    def iter_completed(self, fn, items, *, lost="raise"):
        _check_lost(lost)
        items = list(items)
        if self.in_process:
            for index, item in enumerate(items):
                try:
                    value = fn(item)
                except Exception as exc:
                    raise _note(exc, index, item)
                yield index, value
            return
        yield from self._pooled(fn, items, lost)

    def _pooled(self, fn, items, lost) -> Iterator[tuple[int, Any]]:
        pool = self._shared_pool(fn)
        futures: dict[Future, int] = {pool.submit(fn, item): i for i, item in enumerate(items)}
        lost_indices: list[int] = []
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.__getitem__):
                    index = futures[future]
                    exc = future.exception()
                    if isinstance(exc, BrokenProcessPool):
                        lost_indices.append(index)
                    elif exc is not None:
                        raise _note(exc, index, items[index])
                    else:
                        yield index, future.result()
        finally:
            for future in futures:
                future.cancel()
        if lost_indices:
            # The pool is broken: which of its items killed it is unknown. Replace it for later
            # maps and re-run the lost items on lanes, where a death names its item.
            logging.getLogger(__name__).warning(
                "a worker process died; re-running %d unfinished item(s) one per worker", len(lost_indices)
            )
            self._discard_pool()
            yield from self._lanes(fn, items, sorted(lost_indices), lost)

    def _lanes(self, fn, items, indices: list[int], lost: str) -> Iterator[tuple[int, Any]]:
        """Run `indices` on up to `workers` one-worker pools, one item in flight per pool."""
        queue = list(reversed(indices))
        deaths: dict[int, int] = {}
        idle: list[ProcessPoolExecutor] = []
        running: dict[Future, tuple[int, ProcessPoolExecutor]] = {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    index = queue.pop()
                    lane = idle.pop() if idle else self._new_pool(1, fn)
                    running[lane.submit(fn, items[index])] = (index, lane)
                done, _ = wait(set(running), return_when=FIRST_COMPLETED)
                for future in done:
                    index, lane = running.pop(future)
                    exc = future.exception()
                    if isinstance(exc, BrokenProcessPool):
                        lane.shutdown(wait=False, cancel_futures=True)
                        deaths[index] = deaths.get(index, 0) + 1
                        if deaths[index] < 2:
                            queue.append(index)  # retried once on a fresh lane
                            continue
                        reason = f"its worker process died twice ({exc})"
                        if lost == "raise":
                            raise WorkerLostError(index, items[index], reason)
                        yield index, LostItem(index, describe_item(items[index]), reason)
                        continue
                    idle.append(lane)
                    if exc is not None:
                        raise _note(exc, index, items[index])
                    yield index, future.result()
        finally:
            for future, (_, lane) in running.items():
                future.cancel()
                _terminate(lane)
            for lane in idle:
                lane.shutdown(wait=True)

    def _discard_pool(self) -> None:
        if self._pool is not None:
            _terminate(self._pool)
            self._pool = None

    def close(self) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is not None and self._pool is not None:
            # An error or Ctrl-C: do not wait for the running items, stop their processes.
            self._closed = True
            self._discard_pool()
        self.close()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Shut a pool down without waiting for its items, killing its worker processes (a broken or
    abandoned pool).

    The workers go first, then the pool is shut down and its manager thread joined: that thread
    sees the pool broken and ends. Shutting down first (without waiting) let the manager thread,
    replacing a worker that had just finished its item (max_tasks_per_child), find the pool's
    process table already gone and print a TypeError traceback on stderr."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- dask

DASHBOARD_ENV = "TRADEOFF_DASHBOARD"  # an address (":8787") to serve Dask's dashboard from our LocalCluster
POLL_SECONDS = 1.0  # how often a Dask map looks at the cluster while no item finishes
MAX_RESENDS = 3  # times the shared objects are sent again after every worker holding them was lost (and tries each time)


def dashboard_address() -> str | None:
    """$TRADEOFF_DASHBOARD when set (the address the LocalCluster's dashboard listens on, e.g.
    ":8787"; the pages need bokeh: `pip install tradeoff[dashboard]`), else None: no dashboard."""
    value = os.environ.get(DASHBOARD_ENV, "").strip()
    return value or None


class _Checked:
    """`fn` run on a Dask worker only when the worker's engine signature (tradeoff.fingerprint) is
    the client's: a worker that joined after the check at the start, with other code or library
    versions, refuses the item (ClusterMismatchError naming it) instead of computing it differently."""

    def __init__(self, fn: Callable[[Any], Any], expected: dict):
        self.fn = fn
        self.expected = expected
        self.__name__ = getattr(fn, "__name__", "task")  # names the tasks on the dashboard

    def __call__(self, item: Any) -> Any:
        from tradeoff.environment import ClusterMismatchError
        from tradeoff.fingerprint import Signature, differences, signature

        mine, client = signature(), Signature.from_dict(self.expected)
        if mine != client:
            raise ClusterMismatchError(f"worker {_this_worker()}", differences(mine, client))
        return self.fn(item)


def _this_worker() -> str:
    """The address of the Dask worker running this code ("?" outside one)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "?"


class DaskExecutor(Executor):
    """A Dask distributed cluster: the one at `scheduler`, or a LocalCluster of `jobs` processes.

    `fn` and the items are pickled to the workers, so the workers need the same Python packages
    (tradeoff, scenarios, simulation, optimizer) installed; see docs/scaling.md. Before any work
    every worker is compared with this process (tradeoff.fingerprint: the engine's source and the
    versions of Python and the stack) and the scheduler's Dask stack with ours; a difference is
    refused (ClusterMismatchError, one line naming the worker and what differs). Items run wrapped
    so that a worker joining later with other code refuses them too.

    Cluster faults become the engine's errors (tradeoff.environment, one line, exit 1): no worker
    at the start (NoWorkersError), the scheduler lost (SchedulerLostError), every worker lost and
    none back within $TRADEOFF_WORKER_TIMEOUT s (WorkersLostError). The objects `share` sent are
    sent again when the workers holding them are all lost and new ones join (a nanny restarts a
    killed worker), and the items that needed them are submitted again.
    """

    kind = "dask"

    def __init__(self, jobs: int = 1, scheduler: str | None = None, timeout: float | None = None):
        import dask
        from distributed import Client, LocalCluster
        from distributed.utils import silence_logging_cmgr

        from tradeoff.environment import (
            ClusterStartError,
            SchedulerUnreachableError,
            meaning,
            scheduler_timeout,
            worker_timeout,
        )
        from tradeoff.fingerprint import signature

        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self._cluster = None
        self._client = None
        self._shared: list[tuple[Any, Any]] = []  # (object, its scatter future), for re-sending
        self._replaced: dict[str, Any] = {}  # key of a lost scatter future -> the future sent again
        self._resends = 0
        # Distributed's own log lines (a reconnect that fails, a worker removed) would reach stderr
        # beside the engine's one line about the same fault: silenced while this executor lives, as
        # LocalCluster(silence_logs=...) does for its cluster.
        self._quiet = contextlib.ExitStack()
        self._quiet.enter_context(silence_logging_cmgr(logging.CRITICAL))
        self._worker_timeout = worker_timeout()
        self._signature = signature().as_dict()
        if scheduler is None:
            dashboard = dashboard_address()
            # A task that kills its worker is retried once, then reported as KilledWorker.
            config: dict[str, Any] = {"distributed.scheduler.allowed-failures": 1}
            if dashboard is None:
                # Dask's scheduler always opens an HTTP server (8787 by default, and a warning when that
                # port is taken): here on a free port of the loopback interface, serving no page.
                config.update({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []})
            try:
                with dask.config.set(config):
                    self._cluster = LocalCluster(
                        n_workers=jobs,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=dashboard or "127.0.0.1:0",
                        scheduler_kwargs={} if dashboard else {"dashboard": False},
                        silence_logs=logging.CRITICAL,  # a worker's error reaches us as its task's exception
                        # Each worker (and any the nanny restarts) dies with this process, even killed.
                        preload=[LIFELINE],
                    )
                self._client = Client(self._cluster)
            except OSError as exc:
                self.close()
                raise ClusterStartError(meaning(exc) or f"{type(exc).__name__}: {exc}") from exc
            self.workers = int(jobs)
            self.address = self._cluster.scheduler_address
        else:
            seconds = scheduler_timeout(timeout)
            try:
                # Dask keeps retrying a refused connection until the timeout: a scheduler may be
                # starting. Then one line says so (tradeoff.environment), not 30 s and a traceback.
                self._client = Client(scheduler, timeout=seconds)
            except OSError as exc:  # TimeoutError, ConnectionRefusedError, ... are OSErrors
                raise SchedulerUnreachableError(scheduler, seconds) from exc
            except ValueError as exc:  # not an address at all ("foo://x", no port): invalid input, exit 2
                from scenarios.errors import Problem, ScenarioError

                raise ScenarioError(Problem("--scheduler", "", f"is not a Dask scheduler address ({exc})",
                                            scheduler, True)) from exc
            self.address = scheduler
        try:
            self._check_cluster(wait_for_workers=scheduler is not None)
        except BaseException:
            self.close()
            raise
        if scheduler is not None:
            info = self._client.scheduler_info()
            threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            self.workers = max(1, int(threads))
        self.scheduler = self._client.scheduler.address

    @property
    def client(self):
        """The dask.distributed Client (for dashboards, scatter, diagnostics)."""
        return self._client

    # ---- the check before any work
    def _check_cluster(self, wait_for_workers: bool) -> None:
        """Every worker's signature against ours, then the scheduler's Dask stack; the first
        difference is refused with one line (ClusterMismatchError). `wait_for_workers`: a scheduler
        without workers is given $TRADEOFF_WORKER_TIMEOUT s for one to join (NoWorkersError)."""
        from tradeoff.environment import ClusterMismatchError, NoWorkersError
        from tradeoff.fingerprint import Signature, differences, signature, signature_data

        if wait_for_workers:
            try:
                self._client.wait_for_workers(1, timeout=self._worker_timeout)
            except (TimeoutError, OSError) as exc:
                if self._scheduler_lost():
                    raise self._scheduler_lost_error() from exc
                raise NoWorkersError(self.address, self._worker_timeout) from exc
        ours = signature()
        answers = self._client.run(signature_data, on_error="return")
        refused: list[tuple[str, list[str]]] = []
        for address, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):  # an older engine without tradeoff.fingerprint, say
                refused.append((address, [f"it cannot run the engine's check ({type(answer).__name__}: {answer})"]))
                continue
            found = differences(Signature.from_dict(answer), ours)
            if found:
                refused.append((address, found))
        if refused:
            (first, what), rest = refused[0], refused[1:]
            raise ClusterMismatchError(f"worker {first}", what, len(rest), tuple(a for a, _ in rest))
        self._check_scheduler_versions()

    def _check_scheduler_versions(self) -> None:
        """The scheduler needs no engine, but the same Dask stack (what Dask's own
        get_versions(check=True) compares for it): Python, dask, distributed, tornado, toolz, cloudpickle."""
        from distributed.versions import get_versions

        from tradeoff.environment import ClusterMismatchError

        theirs = self._client.get_versions().get("scheduler") or {}
        mine = get_versions()
        found = []
        pairs = [("python", (theirs.get("host") or {}).get("python"), mine["host"]["python"])]
        for name in ("dask", "distributed", "tornado", "toolz", "cloudpickle"):
            pairs.append((name, (theirs.get("packages") or {}).get(name), mine["packages"].get(name)))
        for name, there, here in pairs:
            if there != here:
                found.append(f"{name} {there} (here {here})")
        if found:
            raise ClusterMismatchError(f"the Dask scheduler at {self.address}", found)

    # ---- shared objects
    def share(self, obj: Any) -> Any:
        """`obj` scattered to every worker once; a task whose item holds the returned future gets
        the object in its place (Dask resolves futures inside tuples, lists and dicts). Sent again
        when every worker holding it is lost (see the class doc)."""
        future = self._client.scatter(obj, broadcast=True, hash=False)
        self._shared.append((obj, future))
        return future

    def _current(self, item: Any) -> Any:
        """`item` with every shared future that was sent again replaced by the new one."""
        from distributed import Future

        if not self._replaced:
            return item
        if isinstance(item, Future):
            while item.key in self._replaced:
                item = self._replaced[item.key]
            return item
        if isinstance(item, tuple) and not hasattr(item, "_fields"):
            return tuple(self._current(part) for part in item)
        if isinstance(item, list):
            return [self._current(part) for part in item]
        if isinstance(item, dict):
            return {key: self._current(value) for key, value in item.items()}
        return item

    def _shared_in(self, item: Any) -> list:
        from distributed import Future

        if isinstance(item, Future):
            return [item]
        if isinstance(item, tuple | list):
            return [f for part in item for f in self._shared_in(part)]
        if isinstance(item, dict):
            return [f for value in item.values() for f in self._shared_in(value)]
        return []

    def _resend(self) -> None:
        """Every shared object whose data was lost, scattered again once a worker is there
        (WorkersLostError when none comes back within the worker timeout, or the objects cannot be
        sent again after a few tries)."""
        from tradeoff.environment import WorkersLostError

        self._resends += 1
        if self._resends <= MAX_RESENDS:
            for _ in range(MAX_RESENDS):
                if not self._wait_for_a_worker():
                    break
                if self._scatter_lost():
                    logging.getLogger(__name__).warning("the workers holding the shared objects were lost; sent them again")
                    return
        raise WorkersLostError(self.address, self._worker_timeout, data_lost=True)

    def _scatter_lost(self) -> bool:
        """Scatter again each shared object whose data is lost; False when one could not be sent
        within the worker timeout (a worker counted a moment ago may be dying too: Dask would try
        to reach it for its connect timeout, 30 s, so the scatter is given up on, not waited for)."""
        import threading

        for k, (obj, future) in enumerate(self._shared):
            if not self._lost([future]):
                continue
            box: dict[str, Any] = {}

            def send(obj=obj, box=box) -> None:
                try:
                    box["future"] = self._client.scatter(obj, broadcast=True, hash=False)
                except Exception as exc:  # noqa: BLE001 - reported as a failed try
                    box["error"] = exc

            thread = threading.Thread(target=send, name="tradeoff-resend", daemon=True)
            thread.start()
            thread.join(self._worker_timeout)
            if "future" not in box:
                return False
            self._replaced[future.key] = box["future"]
            self._shared[k] = (obj, box["future"])
        return True

    def _lost(self, futures: list) -> bool:
        """Is the data of any of these (scatter) futures gone from the cluster? Asked of the
        scheduler (who holds each key), not only of the futures' state here, which can lag behind
        the cancellation of the tasks that needed them."""
        if any(f.status != "finished" for f in futures):
            return True
        holders = self._client.who_has(futures)
        return any(not holders.get(f.key) for f in futures)

    # ---- the cluster's state
    def _scheduler_lost(self) -> bool:
        return self._client is None or self._client.status != "running"

    def _scheduler_lost_error(self):
        from tradeoff.environment import SchedulerLostError

        return SchedulerLostError(self.address)

    def _worker_count(self) -> int:
        return len(self._client.nthreads())

    def _wait_for_a_worker(self) -> bool:
        """True when the cluster has a worker, or one joins within the worker timeout."""
        deadline = time.monotonic() + self._worker_timeout
        while True:
            if self._scheduler_lost():
                raise self._scheduler_lost_error()
            if self._worker_count() > 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    # ---- the map
    def iter_completed(self, fn, items, *, lost="raise"):
        from distributed.comm.core import CommClosedError

        _check_lost(lost)
        items = list(items)
        if not items:
            return
        submitted: dict[str, tuple[int, Any]] = {}  # future key -> (index, future)
        try:
            yield from self._completed(fn, items, lost, submitted)
        except (OSError, CommClosedError, TimeoutError) as exc:
            # The client's own calls fail once the scheduler is gone; a task's OSError (a full disk on
            # a worker) comes with the scheduler still there and goes up unchanged.
            if self._scheduler_lost():
                raise self._scheduler_lost_error() from exc
            raise
        finally:
            left = [future for _, future in submitted.values() if not future.done()]
            if left and not self._scheduler_lost():
                try:
                    self._client.cancel(left)
                except Exception:  # noqa: BLE001 - the cluster may be going away
                    pass

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                client.close(timeout=5)
            except Exception:  # noqa: BLE001 - a lost scheduler: nothing to close on its side
                pass
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        quiet = getattr(self, "_quiet", None)
        if quiet is not None:
            quiet.close()

    def _completed(self, fn, items, lost, submitted) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        from tradeoff.environment import ClusterCancelledError, WorkersLostError

        task = _Checked(fn, self._signature)
        finished = as_completed([], loop=self._client.loop)

        def submit(indices: Sequence[int]) -> None:
            for attempt in range(MAX_RESENDS + 1):
                try:
                    futures = self._client.map(task, [self._current(items[i]) for i in indices], pure=False, retries=1)
                    break
                except CancelledError:
                    # A shared object the items need was lost meanwhile (its last workers went):
                    # send it again, or stop saying so.
                    if self._scheduler_lost():
                        raise self._scheduler_lost_error() from None
                    self._resend()
            else:
                raise WorkersLostError(self.address, self._worker_timeout, data_lost=True)
            for i, future in zip(indices, futures):
                submitted[future.key] = (i, future)
            finished.update(futures)

        submit(range(len(items)))
        watch = _Watch(self)
        retried: list[int] = []  # items whose finished result was lost with its worker, submitted again
        while not finished.is_empty():
            done = finished.next_batch(block=False)
            if not done:
                watch.idle()  # nothing finished: is the scheduler there, is anyone still working?
                continue
            again: list[int] = []
            for future in sorted(done, key=lambda f: submitted[f.key][0]):
                index = submitted[future.key][0]
                result_lost = False
                if future.status in ("lost", "pending"):
                    # Finished, then its result went with its worker: Dask computes it again.
                    finished.add(future)
                    continue
                if future.status == "finished":
                    try:
                        value = future.result()
                    except (CancelledError, OSError):
                        # Finished, but its result went with its worker before it was fetched (or
                        # the scheduler is gone: seen below).
                        result_lost = True
                    else:
                        future.release()  # results are handed over; let the cluster forget them
                        yield index, value
                        continue
                if future.status == "error" and not result_lost:
                    try:
                        future.result()
                    except KilledWorker as exc:
                        reason = f"its worker process died ({exc})"
                        if lost == "raise":
                            raise WorkerLostError(index, items[index], reason) from exc
                        yield index, LostItem(index, describe_item(items[index]), reason)
                        continue
                    except Exception as exc:
                        raise _note(exc, index, items[index])
                # Cancelled: by the loss of the scheduler, of the shared objects with their workers,
                # or from outside (another client, a restart).
                if self._scheduler_lost():
                    raise self._scheduler_lost_error()
                needed = self._shared_in(items[index])
                if needed and (any(f.key in self._replaced for f in needed) or self._lost(needed)):
                    if self._lost([self._current(f) for f in needed]):
                        self._resend()
                    again.append(index)
                    continue
                if result_lost and retried.count(index) < 2:
                    retried.append(index)
                    again.append(index)
                    continue
                raise ClusterCancelledError(self.address, describe_item(items[index]))
            if again:
                submit(again)


class _Watch:
    """While a Dask map waits: the scheduler must still be connected, and a cluster without any
    worker for longer than the worker timeout stops the map (WorkersLostError)."""

    def __init__(self, executor: DaskExecutor):
        self.executor = executor
        self.checked = time.monotonic()
        self.without_workers_since: float | None = None

    def idle(self) -> None:
        from tradeoff.environment import WorkersLostError

        ex = self.executor
        if ex._scheduler_lost():
            raise ex._scheduler_lost_error()
        time.sleep(0.05)
        now = time.monotonic()
        if now - self.checked < POLL_SECONDS:
            return
        self.checked = now
        if ex._worker_count() > 0:
            self.without_workers_since = None
        elif self.without_workers_since is None:
            self.without_workers_since = now
        elif now - self.without_workers_since > ex._worker_timeout:
            raise WorkersLostError(ex.address, ex._worker_timeout)


# --------------------------------------------------------------------------- factory


def get_executor(
    kind: str = "local",
    jobs: int = 1,
    scheduler: str | None = None,
    *,
    fresh_process_per_item: bool = False,
    preload: Sequence[str] = (),
    scheduler_timeout: float | None = None,
) -> Executor:
    """The executor named `kind` ("local" or "dask") with `jobs` workers.

    `scheduler`: address of a running Dask scheduler ("tcp://host:8786"), dask only; without it a
    LocalCluster of `jobs` worker processes is started. `fresh_process_per_item` (local):
    each item in a new process, even with jobs=1. `preload` (local): modules the items need, imported
    once by the fork server rather than by every worker. `scheduler_timeout` (dask with a scheduler):
    seconds to reach it (default $TRADEOFF_SCHEDULER_TIMEOUT, else 3), then
    tradeoff.environment.SchedulerUnreachableError; a cluster with a worker that differs from this
    process is refused (tradeoff.environment.ClusterMismatchError). Unknown kind -> ValueError.
    """
    if kind == "local":
        if scheduler is not None:
            raise ValueError("--scheduler applies to the dask executor only")
        return LocalExecutor(jobs, fresh_process_per_item=fresh_process_per_item, preload=preload)
    if kind == "dask":
        return DaskExecutor(jobs, scheduler, timeout=scheduler_timeout)
    raise ValueError(f"unknown executor {kind!r}: expected one of {', '.join(KINDS)}")
