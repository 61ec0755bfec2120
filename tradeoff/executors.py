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

import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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


class DaskExecutor(Executor):
    """A Dask distributed cluster: the one at `scheduler`, or a LocalCluster of `jobs` processes.

    `fn` and the items are pickled to the workers, so the workers need the same Python packages
    (tradeoff, scenarios, simulation, optimizer) installed; see docs/scaling.md.
    """

    kind = "dask"

    def __init__(self, jobs: int = 1, scheduler: str | None = None, timeout: float | None = None):
        import dask
        from distributed import Client, LocalCluster

        from tradeoff.environment import ClusterStartError, SchedulerUnreachableError, meaning, scheduler_timeout

        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self._cluster = None
        self._client = None
        if scheduler is None:
            try:
                # A task that kills its worker is retried once, then reported as KilledWorker.
                with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                    self._cluster = LocalCluster(
                        n_workers=jobs,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.CRITICAL,  # a worker's error reaches us as its task's exception
                        # Each worker (and any the nanny restarts) dies with this process, even killed.
                        preload=[LIFELINE],
                    )
                self._client = Client(self._cluster)
            except OSError as exc:
                self.close()
                raise ClusterStartError(meaning(exc) or f"{type(exc).__name__}: {exc}") from exc
            self.workers = int(jobs)
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
            info = self._client.scheduler_info()
            threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            self.workers = max(1, int(threads))
        self.scheduler = self._client.scheduler.address

    @property
    def client(self):
        """The dask.distributed Client (for dashboards, scatter, diagnostics)."""
        return self._client

    def share(self, obj: Any) -> Any:
        """`obj` scattered to every worker once; a task whose item holds the returned future gets
        the object in its place (Dask resolves futures inside tuples, lists and dicts)."""
        return self._client.scatter(obj, broadcast=True, hash=False)

    def iter_completed(self, fn, items, *, lost="raise"):
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        _check_lost(lost)
        items = list(items)
        if not items:
            return
        futures = self._client.map(fn, items, pure=False, retries=1)
        index_of = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                index = index_of[future.key]
                try:
                    value = future.result()
                except KilledWorker as exc:
                    reason = f"its worker process died ({exc})"
                    if lost == "raise":
                        raise WorkerLostError(index, items[index], reason) from exc
                    value = LostItem(index, describe_item(items[index]), reason)
                except Exception as exc:
                    raise _note(exc, index, items[index])
                future.release()  # results are handed over; let the cluster forget them
                yield index, value
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


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
    tradeoff.environment.SchedulerUnreachableError. Unknown kind -> ValueError.
    """
    if kind == "local":
        if scheduler is not None:
            raise ValueError("--scheduler applies to the dask executor only")
        return LocalExecutor(jobs, fresh_process_per_item=fresh_process_per_item, preload=preload)
    if kind == "dask":
        return DaskExecutor(jobs, scheduler, timeout=scheduler_timeout)
    raise ValueError(f"unknown executor {kind!r}: expected one of {', '.join(KINDS)}")
