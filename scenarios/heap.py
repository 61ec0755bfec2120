"""One function, `release_free_heap`, for the end of each stage of a run and for the head's steps
that free a large table in many pieces just before building another. It lives here, at the bottom
of the dependency order (docs/architecture.md), beside scenarios.gc_pause, so that every layer can
use it.

glibc's malloc keeps freed memory in the process for reuse, and once a few large arrays have been
freed it serves arrays of up to their size from the heap, not from fresh mappings (its dynamic mmap
threshold). Memory freed in the middle of the heap then stays resident: a table freed column by
column while its replacement is built made the head hold both (its peak resident memory). malloc_trim
hands the free pages back to the system (glibc 2.8 or later; elsewhere this does nothing: other
allocators return memory on their own terms)."""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl, macOS): no malloc_trim
        return None


def release_free_heap() -> None:
    """Give the heap's free pages back to the system (malloc_trim(0): it walks the free blocks, so
    it is cheap when there are few). Nothing without glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
