"""tradeoff.pipeline's policy keys and add_new against their plain per-row definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeoff.pipeline import add_new, policy_keys


def per_row_key(row) -> str:
    """The definition: sku|family|mode|s|S|Q|R|cap, numbers as repr(float), "" when missing."""
    numbers = ["" if pd.isna(row[c]) else repr(float(row[c])) for c in ("s", "S", "Q", "R", "cap")]
    return "|".join([str(row["sku"]), str(row["family"]), str(row["mode"]), *numbers])


def table() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 200
    return pd.DataFrame(dict(
        sku=rng.choice(["a", "b", "c"], n), family=rng.choice(["sS", "rQ", "base_stock"], n),
        mode=rng.choice(["truck", "air"], n),
        s=np.where(rng.random(n) < 0.3, np.nan, rng.integers(-2, 9, n) * 0.5),
        S=rng.integers(0, 30, n).astype(float), Q=np.where(rng.random(n) < 0.5, np.nan, 1 / 3),
        R=rng.integers(0, 3, n), cap=np.nan,
    ), index=rng.permutation(n) + 100)


def test_keys_equal_per_row_definition():
    t = table()
    t.loc[t.index[0], "s"] = -0.0  # repr keeps the sign, as repr(float) does
    t.loc[t.index[1], "S"] = 1e300
    keys = policy_keys(t)
    assert keys.index.equals(t.index)
    assert list(keys) == [per_row_key(row) for _, row in t.iterrows()]
    assert keys.iloc[0].split("|")[3] == "-0.0"


def test_add_new_keeps_unknown_rows_once_in_order():
    t = table()
    known, new = t.iloc[:120], t.iloc[80:]
    new = pd.concat([new, new.iloc[:5]])
    out = add_new(known, new)
    known_keys = {per_row_key(r) for _, r in known.iterrows()}
    expected, seen = [], set()
    for _, r in new.iterrows():
        k = per_row_key(r)
        if k not in known_keys and k not in seen:
            seen.add(k)
            expected.append(k)
    assert [per_row_key(r) for _, r in out.iterrows()] == expected
    assert out.index.equals(pd.RangeIndex(len(expected)))
