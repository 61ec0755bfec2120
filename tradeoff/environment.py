"""Environment failures: the machine, not the input or the engine, stopped the command.

A full disk, a file size limit, a folder this user may not write in, a Dask scheduler that cannot be
reached. The command line reports each as ONE line on stderr, in the engine's words (what failed:
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
    "SCHEDULER_TIMEOUT_ENV",
    "ClusterStartError",
    "EnvironmentFailure",
    "ResultNotWritten",
    "SchedulerUnreachableError",
    "describe",
    "ignore_file_size_signal",
    "meaning",
    "scheduler_timeout",
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
DEFAULT_SCHEDULER_TIMEOUT = 3.0  # seconds to reach a Dask scheduler (a running one answers in milliseconds)


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
    raw = os.environ.get(SCHEDULER_TIMEOUT_ENV, "") if value is None else value
    if isinstance(raw, str) and raw.strip() == "":
        return DEFAULT_SCHEDULER_TIMEOUT
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        from scenarios.errors import Problem, ScenarioError

        where = SCHEDULER_TIMEOUT_ENV if value is None else "scheduler timeout"
        raise ScenarioError(Problem(where, "", "is not a number of seconds > 0", raw, True))
    return seconds
