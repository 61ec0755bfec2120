"""The executor seam: same results, in input order, whatever the executor and the worker count;
a worker that dies is retried once or named, never silently dropped."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tradeoff.executors import LostItem, WorkerLostError, get_executor

# Work functions live at module level so spawned workers can import them by name.


def square_slowly(x: int) -> int:
    """x*x after a delay that makes the first items finish last (completion order != input order)."""
    time.sleep(0.02 * (6 - x % 6))
    return x * x


def first_waits_for_second(item: tuple[int, str]) -> int:
    """x*x; item 0 finishes only after item 1 has (it waits, up to 30 s, for the file item 1 writes
    in the folder given, then half a second more), so completion order differs from input order."""
    x, folder = item
    if x == 0:
        deadline = time.monotonic() + 30
        while not (Path(folder) / "1").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        # item 1 writes its file just before it returns: give its result time to reach the pool
        # first (without this, the two results raced and item 0's could arrive first)
        time.sleep(0.5)
    else:
        (Path(folder) / str(x)).write_text("done")
    return x * x


def pid_of(_: object) -> int:
    time.sleep(0.05)
    return os.getpid()


def kill_on(item: tuple[int, str]) -> int:
    """Die (SIGKILL, as the OOM killer would) on the item whose marker is 'always'; die only the
    first time when the marker is a file path (the file records that the first death happened)."""
    value, marker = item
    if marker == "always":
        os.kill(os.getpid(), signal.SIGKILL)
    if marker:
        flag = Path(marker)
        if not flag.exists():
            flag.write_text("died once")
            os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return value * 10


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ArithmeticError("three is not allowed")
    return x


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown executor 'spark'"):
        get_executor("spark")


def test_local_in_process_matches_a_plain_loop():
    with get_executor("local", jobs=1) as ex:
        assert ex.workers == 1
        assert ex.map(square_slowly, range(8)) == [x * x for x in range(8)]
        # jobs=1 runs here, in this very process
        assert set(ex.map(pid_of, [0, 1])) == {os.getpid()}


def test_local_pool_keeps_input_order_and_uses_other_processes(tmp_path):
    with get_executor("local", jobs=2) as ex:
        assert ex.workers == 2
        done = list(ex.iter_completed(first_waits_for_second, [(x, str(tmp_path)) for x in range(6)]))
        order = [index for index, _ in done]
        assert sorted(order) == list(range(6)) and order.index(1) < order.index(0)  # finished out of order
        assert all(value == index * index for index, value in done)  # each result with its own index
        assert ex.map(square_slowly, list(range(12))) == [x * x for x in range(12)]  # pool reused
        pids = ex.map(pid_of, list(range(6)))
    assert os.getpid() not in pids


def test_fresh_process_per_item_never_reuses_a_worker():
    with get_executor("local", jobs=2, fresh_process_per_item=True) as ex:
        pids = ex.map(pid_of, list(range(4)))
    assert len(set(pids)) == 4
    with get_executor("local", jobs=1, fresh_process_per_item=True) as ex:  # even with one job
        assert not ex.in_process
        pids = ex.map(pid_of, list(range(2)))
    assert len(set(pids)) == 2 and os.getpid() not in pids


def test_an_exception_names_the_item():
    with get_executor("local", jobs=2) as ex:
        with pytest.raises(ArithmeticError) as info:
            ex.map(fail_on_three, list(range(6)))
    assert "item 3" in "\n".join(getattr(info.value, "__notes__", []))


def test_a_worker_killed_once_is_retried_and_nothing_is_lost(tmp_path):
    items = [(i, "") for i in range(8)]
    items[2] = (2, str(tmp_path / "died"))
    with get_executor("local", jobs=2) as ex:
        assert ex.map(kill_on, items) == [i * 10 for i in range(8)]
        assert (tmp_path / "died").exists()  # the worker really died once
        assert ex.map(square_slowly, [1, 2]) == [1, 4]  # the executor recovered a healthy pool


def test_a_worker_that_always_dies_is_named_never_dropped():
    items = [(i, "always" if i == 5 else "") for i in range(7)]
    with get_executor("local", jobs=2) as ex:
        with pytest.raises(WorkerLostError) as info:
            ex.map(kill_on, items)
        assert info.value.index == 5 and "item 5" in str(info.value)
        results = ex.map(kill_on, items, lost="return")
    assert isinstance(results[5], LostItem) and results[5].index == 5
    assert [r for i, r in enumerate(results) if i != 5] == [i * 10 for i in range(7) if i != 5]


class CountsPickles:
    """A shared object that counts, in the parent, how often it is pickled."""

    pickled = 0

    def __init__(self, size: int):
        self.data = list(range(size))

    def __reduce__(self):
        type(self).pickled += 1
        return CountsPickles, (len(self.data),)


def length_plus(item: tuple) -> tuple[int, int]:
    shared, x = item
    return len(shared.data) + x, id(shared)


def test_a_local_pool_receives_a_shared_object_once_per_worker_not_per_item(tmp_path):
    catalogue = CountsPickles(1000)
    with get_executor("local", jobs=2) as pool:
        handle = pool.share(catalogue)
        assert pool.share(catalogue) is handle  # the same object again: the same handle, the same workers
        results = pool.map(length_plus, [(handle, i) for i in range(20)])
        assert [r[0] for r in results] == [1000 + i for i in range(20)]
        # pickled once in this process (for the workers' start), never with the 20 items
        assert CountsPickles.pickled == 1
        # every item in one worker saw the same object (unpickled once there)
        assert len({r[1] for r in results}) <= 2
        # a worker death: the re-run items still receive the object (lanes start with it too)
        marker = tmp_path / "died"
        assert pool.map(kill_once_then_length, [(handle, str(marker))]) == [1000]
    with get_executor("local", jobs=1) as local:  # in this process the handle is the object itself
        assert local.share(catalogue) is catalogue


def kill_once_then_length(item: tuple) -> int:
    shared, marker = item
    if not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return len(shared.data)
