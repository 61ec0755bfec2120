"""tradeoff.pipeline's policy keys and add_new against their plain per-row definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeoff.pipeline import add_new, policy_keys


def per_row_key(row) -> str:
    """The definition: sku|family|mode|s|S|Q|R|cap|critical_level, numbers as repr(float), "" when
    missing; a table without critical levels has them all 0."""
    numbers = ["" if pd.isna(row[c]) else repr(float(row[c])) for c in ("s", "S", "Q", "R", "cap")]
    numbers.append(repr(float(row["critical_level"])) if "critical_level" in row and not pd.isna(row["critical_level"])
                   else ("0.0" if "critical_level" not in row else ""))
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


def _add_new_by_text(known: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """add_new's definition: the keys of `new` not among `known`'s, first occurrences, in order."""
    known_keys = {per_row_key(r) for _, r in known.iterrows()}
    expected, seen = [], set()
    for _, r in new.iterrows():
        k = per_row_key(r)
        if k not in known_keys and k not in seen:
            seen.add(k)
            expected.append(k)
    return expected


def test_add_new_codes_match_text_keys_on_signed_zeros_nan_and_int_columns():
    """add_new compares integer codes per column, not the text keys: the same rows must come out,
    also for -0.0 against 0.0 (different text), NaN against NaN (both ""), an int64 column
    against a float64 one (1 and 1.0 have the same text) and values that collide nowhere else."""
    t = table()
    t["cap"] = np.where(np.arange(len(t)) % 3 == 0, np.nan, 2.0)
    known, new = t.iloc[:100].copy(), t.iloc[60:].copy()
    new.loc[new.index[:10], "s"] = -0.0
    known.loc[known.index[:10], "s"] = 0.0
    new["S"] = new["S"].astype(np.int64)  # int64 here, float64 in known
    new = pd.concat([new, new.iloc[:7], known.iloc[:4]])
    out = add_new(known, new)
    assert [per_row_key(r) for _, r in out.iterrows()] == _add_new_by_text(known, new)
    assert out.index.equals(pd.RangeIndex(len(out)))


def test_add_new_names_with_separator_follow_the_text_keys():
    """Names holding "|" can join to the same text for different columns; add_new then keeps to the
    text keys' answer (one row), as before."""
    known = pd.DataFrame(dict(sku=["a|b"], family=["sS"], mode=["truck"], s=[1.0], S=[2.0], Q=[np.nan], R=[0], cap=[np.nan]))
    new = pd.DataFrame(dict(sku=["a"], family=["b|sS"], mode=["truck"], s=[1.0], S=[2.0], Q=[np.nan], R=[0], cap=[np.nan]))
    assert per_row_key(known.iloc[0]) == per_row_key(new.iloc[0])
    assert [per_row_key(r) for _, r in add_new(known, new).iterrows()] == _add_new_by_text(known, new)


def test_add_new_random_tables_match_text_keys():
    rng = np.random.default_rng(3)
    for _ in range(20):
        t = table().sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
        cut = int(rng.integers(0, len(t)))
        known, new = t.iloc[:cut], pd.concat([t.iloc[cut // 2:], t.iloc[: cut // 3]])
        out = add_new(known, new)
        assert [per_row_key(r) for _, r in out.iterrows()] == _add_new_by_text(known, new)


def test_add_new_names_of_mixed_types_follow_the_text_keys():
    """Name columns are compared by their texts (astype(str)): an object column of texts against
    pandas' string dtype, and an object column holding the number 1 against the text "1" (equal
    texts, unequal values) or 1 against 1.0 (equal values, unequal texts)."""
    known = pd.DataFrame(dict(sku=pd.Series(["a", "1", "1.0", "b"], dtype=object), family=["sS"] * 4,
                              mode=pd.Series(["truck"] * 4, dtype=object), s=[1.0] * 4, S=[2.0] * 4,
                              Q=[np.nan] * 4, R=[0] * 4, cap=[np.nan] * 4))
    new = pd.DataFrame(dict(sku=pd.Series(["a", 1, 1.0, True, "c"], dtype=object), family=["sS"] * 5,
                            mode=pd.Series(["truck"] * 5, dtype="str"), s=[1.0] * 5, S=[2.0] * 5,
                            Q=[np.nan] * 5, R=[0] * 5, cap=[np.nan] * 5))
    assert [per_row_key(r) for _, r in add_new(known, new).iterrows()] == _add_new_by_text(known, new)


def test_joint_codes_renumber_before_they_overflow():
    """Codes of rows by many columns of many distinct values each (more combinations than int64
    holds) are equal exactly when the rows are."""
    from optimizer.keys import JointCodes

    rng = np.random.default_rng(5)
    columns = rng.integers(0, 3000, size=(12, 2000))
    columns[:, 1000:] = columns[:, :1000]  # every row twice
    columns[3, 1500:] = 0  # and some of the copies differ in one column
    joint = JointCodes(columns.shape[1])
    for codes in columns:
        joint.add(codes, 3000)
    rows = np.unique(columns.T, axis=0, return_inverse=True)[1].reshape(-1)
    ids = pd.factorize(joint.ids)[0]
    # the same partition: each row class has one code and each code one row class
    assert len(np.unique(np.stack([rows, ids]), axis=1)[0]) == len(np.unique(rows)) == len(np.unique(ids)) == 1500
