"""Candidate policies of one SKU as flat arrays, the form both engines read.

A policies DataFrame (columns sku, family, mode, s, S, Q, R, cap; NaN where unused) becomes integer
arrays with whole-unit parameters (rounded half-up, docs/simulation.md) and codes for family and mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.schema import FAMILIES, Scenario

FAMILY_CODE = {name: k for k, name in enumerate(FAMILIES)}  # base_stock 0, sS 1, rQ 2, RS 3, RsS 4, capped 5
_PARAMETERS = ("s", "S", "Q", "R", "cap")
_INT64_LIMIT = 2.0**62  # whole units beyond this are not realistic; such tables take the row-by-row path


def _whole(x) -> int:
    """A policy parameter as whole units (half-up); missing -> 0."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return 0
    return int(math.floor(float(x) + 0.5))


def _whole_column(column: pd.Series) -> np.ndarray | None:
    """`_whole` of a whole numeric column at once (the same float64 arithmetic, NaN -> 0); None when
    the column holds anything else (objects, booleans, non-finite or huge values)."""
    if (not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_complex_dtype(column)):
        return None
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    given = ~np.isnan(values)
    if not np.all(np.abs(values[given]) < _INT64_LIMIT):  # also refuses inf
        return None
    out = np.zeros(values.shape, dtype=np.int64)
    out[given] = np.floor(values[given] + 0.5).astype(np.int64)
    return out


@dataclass(frozen=True)
class PolicyArrays:
    """Candidates of one SKU: family code, mode index (into scenario.transport), s, S, Q, R, cap and
    crit, the critical level of the lowest customer tier (int64; 0 = no rationing, docs/tiers.md)."""

    family: np.ndarray
    mode: np.ndarray
    s: np.ndarray
    S: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    cap: np.ndarray
    crit: np.ndarray = None  # type: ignore[assignment]  # zeros when not given

    def __post_init__(self) -> None:
        if self.crit is None:
            object.__setattr__(self, "crit", np.zeros(np.asarray(self.family).shape[0], np.int64))

    def __len__(self) -> int:
        return int(self.family.shape[0])

    def take(self, rows: np.ndarray) -> PolicyArrays:
        """The candidates at positions `rows` (e.g. one SKU's rows of a many-SKU table)."""
        return PolicyArrays(*(getattr(self, f)[rows] for f in ("family", "mode", "s", "S", "Q", "R", "cap", "crit")))


def _mode_index(m, names: list[str]) -> int:
    return 0 if m is None or (isinstance(m, float) and math.isnan(m)) else names.index(m)


def policy_arrays(scenario: Scenario, policies: pd.DataFrame) -> PolicyArrays:
    """Encode the rows of `policies` (usually all of one SKU; a many-SKU table encodes row by row
    the same, see PolicyArrays.take) for an engine; mode NaN/None = the first mode; an optional
    `critical_level` column gives crit (missing or NaN = 0)."""
    arrays = _policy_arrays(scenario, policies)
    if "critical_level" in policies.columns:
        crit = _whole_column(policies["critical_level"])
        crit = crit if crit is not None else [_whole(x) for x in policies["critical_level"]]
        object.__setattr__(arrays, "crit", _as64(crit))
    return arrays


def _policy_arrays(scenario: Scenario, policies: pd.DataFrame) -> PolicyArrays:
    names = [m.name for m in scenario.transport]
    try:
        fam = [FAMILY_CODE[f] for f in policies["family"].tolist()]
        mode = [_mode_index(m, names) for m in policies["mode"].tolist()]
        params = {}
        for p in _PARAMETERS:
            whole = _whole_column(policies[p])
            params[p] = whole if whole is not None else [_whole(x) for x in policies[p]]
    except Exception:  # a bad row: read row by row so that the error is the one of the first bad row
        return _policy_arrays_by_row(names, policies)
    return PolicyArrays(_as64(fam), _as64(mode), *(_as64(params[p]) for p in _PARAMETERS))


def _as64(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _policy_arrays_by_row(names: list[str], policies: pd.DataFrame) -> PolicyArrays:
    fam, mode, s, S, Q, R, cap = ([] for _ in range(7))
    for row in policies.itertuples(index=False):
        fam.append(FAMILY_CODE[row.family])
        mode.append(_mode_index(row.mode, names))
        s.append(_whole(row.s))
        S.append(_whole(row.S))
        Q.append(_whole(row.Q))
        R.append(_whole(row.R))
        cap.append(_whole(row.cap))
    return PolicyArrays(_as64(fam), _as64(mode), _as64(s), _as64(S), _as64(Q), _as64(R), _as64(cap))
