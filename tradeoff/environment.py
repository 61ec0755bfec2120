"""Environment failures: the machine, not the input or the engine, stopped the command.

A full disk, a file size limit, a folder this user may not write in, a Dask scheduler that cannot be
reached or is lost during the work, a cluster whose workers are all lost or run other code than this
machine (docs/scaling.md, "Cluster faults"). The command line reports each as ONE line on stderr, in the engine's words (what failed:
the path or the scheduler address, and what the error number means), and exits 1, with no
traceback (docs/outputs.md: 1 is "a bug or an environment failure"; a bug keeps its traceback).
They are recognised here, in one place, by exception type and errno, never by a library's wording:
`describe(exc)` is the line, or None when `exc` is not an environment failure.

Nothing is half-written by then: result folders are staged and renamed (tradeoff.results_io), so a
failed write leaves an earlier complete result as it was.
"""

from __future__ import annotations

import errno
import math
import os
import signal

__all__ = [
    "DEFAULT_SCHEDULER_TIMEOUT",
    "DEFAULT_WORKER_TIMEOUT",
    "SCHEDULER_TIMEOUT_ENV",
    "WORKER_TIMEOUT_ENV",
    "ClusterCancelledError",
    "ClusterMismatchError",
    "ClusterStartError",
    "EnvironmentFailure",
    "WorkFolderNotVisible",
    "NoWorkersError",
    "ResultNotWritten",
    "SchedulerLostError",
    "SchedulerUnreachableError",
    "Stopped",
    "WorkersLostError",
    "describe",
    "ignore_file_size_signal",
    "meaning",
    "scheduler_timeout",
    "worker_timeout",
]

# errno -> what it means, in the engine's words. These are the OSErrors the environment causes.
MEANINGS = {
    errno.ENOSPC: "no space left on the device (the disk is full)",
    errno.EDQUOT: "the disk quota of this user is used up",
    errno.EFBIG: "a file would exceed the file size limit of this process (ulimit -f)",
    errno.EACCES: "permission denied for this user",
    errno.EPERM: "operation not permitted for this user",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "the device reported an input/output error",
    errno.EMFILE: "too many open files in this process (ulimit -n)",
    errno.ENFILE: "too many open files on this machine",
}

SCHEDULER_TIMEOUT_ENV = "TRADEOFF_SCHEDULER_TIMEOUT"
# Seconds to reach a Dask scheduler (a running one answers in milliseconds). Issue 17 asks for the
# line "within 10 s by default": 3 s keeps the whole command (interpreter start, imports) well inside.
DEFAULT_SCHEDULER_TIMEOUT = 3.0
WORKER_TIMEOUT_ENV = "TRADEOFF_WORKER_TIMEOUT"
# Seconds a Dask run waits for a worker: when it starts on a scheduler without any, and when every
# worker has gone during the work (a nanny restarts a killed worker in a second or two).
DEFAULT_WORKER_TIMEOUT = 10.0


class EnvironmentFailure(Exception):
    """The environment stopped the work; str(exc) is the one line the command prints."""


class SchedulerUnreachableError(EnvironmentFailure):
    """No Dask scheduler answered at `address` within `timeout` seconds.

    Not an OSError on purpose: it is reported as an environment failure (exit 1), never mistaken
    for some other OSError on the way up."""

    def __init__(self, address: str, timeout: float):
        self.address = address
        self.timeout = timeout
        super().__init__(address, timeout)

    def __str__(self) -> str:
        return (f"cannot reach the Dask scheduler at {self.address} within {self.timeout:g} s: is it running, "
                f"and is the address right? (wait longer with {SCHEDULER_TIMEOUT_ENV}=SECONDS)")


class ClusterStartError(EnvironmentFailure):
    """A local Dask cluster could not be started (`reason`: what the environment refused)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"cannot start a local Dask cluster: {self.reason}"


class SchedulerLostError(EnvironmentFailure):
    """The connection to the Dask scheduler at `address` was lost during the work (the scheduler
    stopped, or the network to it failed)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__(address)

    def __str__(self) -> str:
        return (f"lost the Dask scheduler at {self.address} during the work (it stopped, or the network to it "
                "failed): the work stopped and no result of it was written; run again when the scheduler is back")


class WorkersLostError(EnvironmentFailure):
    """Every worker of the Dask cluster at `address` was lost and none came back within `timeout`
    seconds; `data_lost`: the objects sent to the workers once (the scenario) were lost with them."""

    def __init__(self, address: str, timeout: float, data_lost: bool = False):
        self.address = address
        self.timeout = timeout
        self.data_lost = data_lost
        super().__init__(address, timeout, data_lost)

    def __str__(self) -> str:
        lost = " (and with them the scenario sent to them)" if self.data_lost else ""
        return (f"all workers of the Dask cluster at {self.address} were lost{lost} and none came back within "
                f"{self.timeout:g} s: the work stopped and no result of it was written; start workers and run again "
                f"(wait longer with {WORKER_TIMEOUT_ENV}=SECONDS)")


class NoWorkersError(EnvironmentFailure):
    """The Dask scheduler at `address` had no worker, and none joined within `timeout` seconds."""

    def __init__(self, address: str, timeout: float):
        self.address = address
        self.timeout = timeout
        super().__init__(address, timeout)

    def __str__(self) -> str:
        return (f"the Dask scheduler at {self.address} has no workers (none joined within {self.timeout:g} s): "
                f"start them with `dask worker {self.address}` (wait longer with {WORKER_TIMEOUT_ENV}=SECONDS)")


class ClusterMismatchError(EnvironmentFailure):
    """`where` (e.g. "worker tcp://10.0.0.7:40123") runs other code or library versions than this
    process: `differences` names each ("engine fingerprint ... (here ...)", "numpy 2.3.1 (here 2.4.6)");
    `others`: how many more workers differ (their addresses in `other_addresses`)."""

    def __init__(self, where: str, differences: list[str] | tuple[str, ...], others: int = 0,
                 other_addresses: tuple[str, ...] = ()):
        self.where = where
        self.differences = tuple(differences)
        self.others = others
        self.other_addresses = tuple(other_addresses)
        super().__init__(where, self.differences, others, self.other_addresses)

    def __str__(self) -> str:
        code = any(d.startswith(("engine fingerprint", "it cannot")) for d in self.differences)
        what = "runs other code" if code else "runs other library versions"
        more = ""
        if self.others:
            shown = ", ".join(self.other_addresses[:3]) + (", ..." if self.others > 3 else "")
            more = f"; {self.others} more worker{'s' if self.others != 1 else ''} differ{'s' if self.others == 1 else ''} ({shown})"
        return (f"{self.where} {what}: {', '.join(self.differences)}{more}; refused, nothing computed there (every "
                "machine needs the same engine and libraries: compare `tradeoff version` on each)")


class ClusterCancelledError(EnvironmentFailure):
    """The Dask cluster at `address` cancelled work of this process (another client or an operator
    cancelled it, or the scheduler restarted) without the scheduler connection or the workers being lost."""

    def __init__(self, address: str, item: str):
        self.address = address
        self.item = item
        super().__init__(address, item)

    def __str__(self) -> str:
        return (f"the Dask cluster at {self.address} cancelled the work on {self.item} (restarted or cancelled "
                "from outside): the work stopped and no result of it was written; run again")


class Stopped(EnvironmentFailure):
    """The command was stopped by signal `name` (SIGTERM, SIGHUP): `doing` says what was left how."""

    def __init__(self, name: str, doing: str = ""):
        self.name = name
        self.doing = doing
        super().__init__(name, doing)

    def __str__(self) -> str:
        return f"stopped by {self.name}" + (f": {self.doing}" if self.doing else "")


class WorkFolderNotVisible(EnvironmentFailure):
    """A run's chunk task found no work folder at `folder` on `worker`: the worker does not see the
    file system the run's --out is on."""

    def __init__(self, folder: str, worker: str):
        self.folder = folder
        self.worker = worker
        super().__init__(folder, worker)

    def __str__(self) -> str:
        from scenarios.errors import excerpt

        # The --out folder the user gave (not the hidden work folder in it), escaped and capped.
        return (f"{excerpt(_shown_path(self.folder))}: not visible from {self.worker}: --out must be on a file "
                "system every worker sees at the same path (the run's chunk tasks keep their files there)")


class ResultNotWritten(OSError):
    """Writing the result folder `filename` failed with `errno`; nothing there was changed.

    An OSError (same errno) so that Python callers catching OSError still do; the command line
    reports it as one line."""

    @classmethod
    def from_error(cls, folder: os.PathLike | str, exc: OSError) -> ResultNotWritten:
        return cls(exc.errno, exc.strerror or str(exc), os.fspath(folder))


def meaning(exc: BaseException) -> str | None:
    """What an environment OSError means, in the engine's words; None for anything else."""
    if isinstance(exc, OSError) and exc.errno in MEANINGS:
        return f"{MEANINGS[exc.errno]} [{errno.errorcode.get(exc.errno, exc.errno)}]"
    return None


def describe(exc: BaseException) -> str | None:
    """The one line (without "error: ") the command line prints for an environment failure, or
    None when `exc` is not one (a bug: the command shows its traceback). An exception raised
    `from` an environment failure is one too (the cause is described)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, EnvironmentFailure) or _solver_unavailable(exc):
            return str(exc)
        what = meaning(exc)
        if what is not None:
            if isinstance(exc, ResultNotWritten):
                return (f"the result could not be written to {exc.filename}: {what}; nothing there was changed "
                        "(an earlier result stays as it was)")
            where = exc.filename if exc.filename is not None else exc.filename2
            return f"{_shown_path(where)}: {what}" if where is not None else what
        exc = exc.__cause__
    return None


def _solver_unavailable(exc: BaseException) -> bool:
    """HiGHS missing from this Python: an environment failure of the optimiser (imported here, late,
    so that this module stays cheap for the command line)."""
    from optimizer.errors import SolverUnavailableError

    return isinstance(exc, SolverUnavailableError)


def _shown_path(path) -> str:
    """`path` as a message names it: a file the engine stages under a temporary name before renaming
    it into place (tradeoff.results_io: `.tmp-<name>-...`) is named by the folder it was going to."""
    text = os.fsdecode(path) if isinstance(path, bytes | os.PathLike) else str(path)
    parts = text.split(os.sep)
    for i, part in enumerate(parts):
        if part.startswith(".tmp-") and i > 0:
            return os.sep.join(parts[:i]) or os.sep
    return text


def ignore_file_size_signal() -> None:
    """Ignore SIGXFSZ in this process (and so in the processes it starts): a write beyond the file
    size limit (RLIMIT_FSIZE) then fails with EFBIG and is reported, instead of the signal killing
    the command without a word and possibly half-way through a file."""
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def scheduler_timeout(value: float | str | None = None) -> float:
    """Seconds to wait for a Dask scheduler: `value`, else $TRADEOFF_SCHEDULER_TIMEOUT, else
    DEFAULT_SCHEDULER_TIMEOUT. Not a number > 0: ScenarioError (invalid input, exit 2)."""
    return _seconds(value, SCHEDULER_TIMEOUT_ENV, DEFAULT_SCHEDULER_TIMEOUT, "scheduler timeout")


def worker_timeout(value: float | str | None = None) -> float:
    """Seconds a Dask run waits for a worker (none at the start, or all lost during the work):
    `value`, else $TRADEOFF_WORKER_TIMEOUT, else DEFAULT_WORKER_TIMEOUT. Not a number > 0:
    ScenarioError (invalid input, exit 2)."""
    return _seconds(value, WORKER_TIMEOUT_ENV, DEFAULT_WORKER_TIMEOUT, "worker timeout")


def _seconds(value: float | str | None, env: str, default: float, label: str) -> float:
    raw = os.environ.get(env, "") if value is None else value
    if isinstance(raw, str) and raw.strip() == "":
        return default
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        from scenarios.errors import Problem, ScenarioError

        where = env if value is None else label
        raise ScenarioError(Problem(where, "", "is not a number of seconds > 0", raw, True))
    return seconds
