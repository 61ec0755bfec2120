"""Fingerprints of the optimiser's inputs, and a small least-recently-used memo keyed by them.

A fingerprint names content, not an object: two evaluation tables with the same columns (names, order,
dtypes) and the same values in the same row order have the same fingerprint, whichever object holds
them; a table changed in place gets a new one. The frontier memoises its sweep by the fingerprints
of the scenario and the evaluations (optimizer.frontier), so the exchange curve is computed once per
evaluations table however many callers ask for it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import pandas as pd

from scenarios.schema import Scenario


def table_fingerprint(table: pd.DataFrame) -> str:
    """SHA-256 (hex) of a table's columns (names, order, dtypes) and of every row's values, in row
    order (pandas' per-row hash of all columns; the index is left out)."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in table.dtypes.items()]).encode("utf-8"))
    h.update(len(table).to_bytes(8, "little"))
    if len(table) and len(table.columns):
        h.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return h.hexdigest()


def scenario_fingerprint(scenario: Scenario) -> str:
    """SHA-256 (hex) of the validated scenario's JSON (every field, the name included)."""
    return hashlib.sha256(scenario.model_dump_json().encode("utf-8")).hexdigest()


class LRU:
    """A thread-safe mapping that keeps the `size` most recently used entries."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> Any | None:
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
