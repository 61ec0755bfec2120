"""No worker process outlives the command that started it, even a command killed with SIGKILL.

A command that is killed outright cannot shut its pools down, so each worker process watches its
*owner* (the process whose pool or cluster started it) by itself:

- Linux: `prctl(PR_SET_PDEATHSIG, SIGKILL)`. The kernel kills the worker the moment its parent
  exits, even while the worker holds the GIL inside a long compiled (numba) call, when no thread of
  its own could run.
- A watchdog thread, everywhere: the worker exits when its owner has exited (a pidfd where there is
  one, else polling every POLL_SECONDS) or when it is re-parented.

Who the parent is depends on how the worker started. Pool workers of `tradeoff.executors` (also
those `simulation.evaluate` is given) are forked by multiprocessing's fork server, not by the owner, and the fork
server does not exit with the owner: every worker holds the fork server's "alive" pipe open, so the
server lives as long as its workers, and the workers' parent never changes (why a parent watch
alone let them run on for minutes). So the fork server imports this module first (it is in the
fork server's preload list) and, seeing itself started by `multiprocessing.forkserver.main`, exits
when the owner does; its workers' parent-death signal then kills them. Dask LocalCluster workers are
started by the owner itself; they load this module as a Dask preload (`dask_setup` below).
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time

__all__ = ["POLL_SECONDS", "bind_to_owner", "dask_setup", "guard_fork_server", "set_parent_death_signal"]

POLL_SECONDS = 0.2  # the watchdog's period when no pidfd can be waited on
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
EXIT_OWNER_GONE = 70  # the exit status of a worker that stopped because its owner was gone


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send `sig` to this process when its parent exits; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux >= 5.3, or the process is already gone
        return None


def _exited(pid: int, pidfd: int | None) -> bool:
    """Has process `pid` exited? (A pidfd becomes readable when it has; a zombie counts as exited.)"""
    if pidfd is not None:
        return bool(select.select([pidfd], [], [], 0)[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _watch(owner: int, parent: int | None, pidfd: int | None) -> None:
    while True:
        if pidfd is not None:
            select.select([pidfd], [], [], POLL_SECONDS)
        else:
            time.sleep(POLL_SECONDS)
        if _exited(owner, pidfd) or (parent is not None and os.getppid() != parent):
            os._exit(EXIT_OWNER_GONE)


def _start_watchdog(owner: int, parent: int | None, name: str) -> None:
    pidfd = _open_pidfd(owner)
    if _exited(owner, pidfd):
        os._exit(EXIT_OWNER_GONE)  # gone before the watch began
    threading.Thread(target=_watch, args=(owner, parent, pidfd), name=name, daemon=True).start()


def bind_to_owner(owner: int | None = None) -> None:
    """In a worker process: exit when `owner` (default: the parent) exits. A pool initializer.

    Sets the parent-death signal (SIGKILL) and starts the watchdog thread; never raises, so a pool
    never breaks over it."""
    try:
        parent = os.getppid()
        set_parent_death_signal()
        # A parent that died before the line above is caught here: the owner is gone too (the fork
        # server exits only with it), or the re-parenting is seen by the watchdog.
        _start_watchdog(parent if owner is None else int(owner), parent, "tradeoff-owner-watch")
    except Exception:  # noqa: BLE001 - best effort: a worker without a watch still works
        pass


def guard_fork_server() -> None:
    """In multiprocessing's fork server: exit as soon as the process that started it exits.

    Only a thread, no parent-death signal: the signal would follow the death of the owner's
    *thread* that happened to start the server, not of the owner. The server waits in select()
    with the GIL released, so the thread always runs at once."""
    try:
        _start_watchdog(os.getppid(), None, "tradeoff-fork-server-watch")
    except Exception:  # noqa: BLE001
        pass


def _imported_by_fork_server() -> bool:
    """True while `multiprocessing.forkserver.main` (a fork server starting up) imports this module."""
    forkserver = sys.modules.get("multiprocessing.forkserver")
    code = getattr(getattr(forkserver, "main", None), "__code__", None)
    if code is None:
        return False
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def dask_setup(worker) -> None:
    """Dask preload hook (`LocalCluster(preload=["tradeoff.lifeline"])`): the worker process, started
    by this command's own process, exits with it."""
    bind_to_owner(os.getppid())


if _imported_by_fork_server():
    guard_fork_server()
