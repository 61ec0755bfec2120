"""The chunks' efficient sets gathered into one table at the head, column by column.

`pd.concat` of the chunks' tables needs every part and the whole at once: on a large catalogue that
was the head's memory peak (two copies of its largest table). `ColumnGather` takes each part's
columns as the part arrives (copies: a part's columns share one 2-D block, which would otherwise
stay alive for as long as any of its columns does) and drops the part; `frame()` then concatenates
one column at a time, freeing that column's parts before the next, and builds the table without
consolidating its columns into 2-D blocks (which would copy them all once more). The head so holds
one copy of the table plus one column's parts, whatever the number of chunks (the freed parts'
pages are handed back as each column is done: scenarios.heap).
"""

from __future__ import annotations

import pandas as pd

from scenarios.heap import release_free_heap


class ColumnGather:
    """Parts of one table (the same columns, in the same order), added in any order by position
    `0 .. n_parts - 1`, gathered in position order. `frame()` equals
    `pd.concat(parts, ignore_index=True)` (values, dtypes, column order)."""

    def __init__(self, n_parts: int):
        self._parts: list[dict | None] = [None] * n_parts
        self._columns: list | None = None

    def add(self, position: int, part: pd.DataFrame) -> None:
        """Take `part`'s columns (copied: the caller may drop `part` at once). Raises ValueError
        when its columns differ from the first part's or the position is taken."""
        columns = list(part.columns)
        if self._columns is None:
            self._columns = columns
        elif columns != self._columns:
            raise ValueError(f"part {position} has columns {columns}, not {self._columns}")
        if self._parts[position] is not None:
            raise ValueError(f"part {position} was added twice")
        self._parts[position] = {c: part[c].reset_index(drop=True).copy(deep=True) for c in columns}

    def frame(self) -> pd.DataFrame:
        """The parts as one table (index 0 .. rows - 1); the gather is empty afterwards (a second
        call gives an empty table). Raises ValueError when a part is missing."""
        missing = [k for k, part in enumerate(self._parts) if part is None]
        if missing:
            raise ValueError(f"parts {missing[:5]} were never added")
        columns: dict = {}
        for name in self._columns or []:
            pieces = [part.pop(name) for part in self._parts]
            columns[name] = pd.concat(pieces, ignore_index=True)
            del pieces  # this column's parts go before the next column is concatenated,
            release_free_heap()  # and their pages back to the system (they were small heap blocks)
        self._parts, self._columns = [], None
        return pd.DataFrame(columns, copy=False)
