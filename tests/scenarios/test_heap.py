"""scenarios.heap.release_free_heap: memory freed in the middle of glibc's heap goes back to the
system (the head's resident memory then follows what it holds, not what it once held)."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from scenarios.heap import _malloc_trim, release_free_heap


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not glibc, reason="malloc_trim is glibc's; other allocators return memory on their own terms")
def test_memory_freed_inside_the_heap_goes_back_to_the_system():
    assert _malloc_trim() is not None
    blocks = [np.ones(2000) for _ in range(12000)]  # 16 KB each, well below malloc's mmap threshold: heap blocks
    pin = np.ones(2000)  # allocated last, so the freed blocks lie inside the heap, not at its top
    before = resident_mb()
    del blocks
    after_free = resident_mb()
    release_free_heap()
    after_release = resident_mb()
    assert before - after_release > 100  # ~190 MB were freed
    assert after_free - after_release > 100  # and free() alone had left them resident
    assert pin.sum() == 2000

