"""One context manager, `without_gc_passes`, for the engine's allocation-heavy steps (loading a
large scenario, rendering a report page, the selection's Pyomo models). It lives here, at the bottom
of the dependency order (docs/architecture.md), so that every layer can use it."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def without_gc_passes() -> Iterator[None]:
    """Inside, Python's cyclic garbage collector does not run (its state is restored after).

    Such a step builds a great many small objects (mappings and validated models per cell of every
    SKU; matplotlib's artists and table cells; the finishing MILPs' Pyomo variables and rows), which
    start collector passes again and again, and each full pass walks every object the process holds,
    not just the step's. The cyclic garbage a step leaves (a dropped Pyomo model is some) is freed by
    the first pass after it; reference counting frees the rest as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
