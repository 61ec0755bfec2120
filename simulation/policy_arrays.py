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

POLICY_COLUMNS = ("sku", "family", "mode", "s", "S", "Q", "R", "cap")
FAMILY_CODE = {name: k for k, name in enumerate(FAMILIES)}  # base_stock 0, sS 1, rQ 2, RS 3, RsS 4, capped 5


def _whole(x) -> int:
    """A policy parameter as whole units (half-up); missing -> 0."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return 0
    return int(math.floor(float(x) + 0.5))


@dataclass(frozen=True)
class PolicyArrays:
    """Candidates of one SKU: family code, mode index (into scenario.transport), s, S, Q, R, cap (int64)."""

    family: np.ndarray
    mode: np.ndarray
    s: np.ndarray
    S: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    cap: np.ndarray

    def __len__(self) -> int:
        return int(self.family.shape[0])


def policy_arrays(scenario: Scenario, policies: pd.DataFrame) -> PolicyArrays:
    """Encode the rows of `policies` (all of one SKU) for an engine; mode NaN/None = the first mode."""
    names = [m.name for m in scenario.transport]
    fam, mode, s, S, Q, R, cap = ([] for _ in range(7))
    for row in policies.itertuples(index=False):
        fam.append(FAMILY_CODE[row.family])
        m = row.mode
        mode.append(0 if m is None or (isinstance(m, float) and math.isnan(m)) else names.index(m))
        s.append(_whole(row.s))
        S.append(_whole(row.S))
        Q.append(_whole(row.Q))
        R.append(_whole(row.R))
        cap.append(_whole(row.cap))
    as64 = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    return PolicyArrays(as64(fam), as64(mode), as64(s), as64(S), as64(Q), as64(R), as64(cap))
