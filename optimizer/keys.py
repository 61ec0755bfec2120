"""Policy keys: one text key per candidate row naming its policy, used to match rows across
evaluation rounds (which policies are already simulated, which rows are chosen); add_new keeps
the policies not simulated yet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.candidates import POLICY_COLUMNS


def _number_text(column: pd.Series) -> np.ndarray:
    """Each value as text for a key (object array): "" when missing, else repr(float(value)). A
    numeric column is converted once per distinct value (by bit pattern, so 0.0 and -0.0 stay
    apart), not once per row."""
    if not (pd.api.types.is_float_dtype(column) or pd.api.types.is_integer_dtype(column)) \
            or pd.api.types.is_extension_array_dtype(column):
        return column.map(lambda x: "" if pd.isna(x) else repr(float(x))).to_numpy(dtype=object)
    values = column.to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    distinct, inverse = np.unique(np.where(missing, 0.0, values).view(np.int64), return_inverse=True)
    texts = np.array([repr(float(x)) for x in distinct.view(np.float64)] + [""], dtype=object)
    return texts[np.where(missing, len(distinct), inverse.reshape(-1))]


PARAMETERS = ("s", "S", "Q", "R", "cap", "critical_level")


def _parameter(table: pd.DataFrame, column: str) -> pd.Series:
    """A parameter column of a policies table; a table without critical levels has them all 0."""
    if column == "critical_level" and column not in table.columns:
        return pd.Series(0.0, index=table.index)
    return table[column]


def policy_keys(table: pd.DataFrame) -> pd.Series:
    """A text key per row naming its policy (sku, family, mode and whole-unit parameters):
    "sku|family|mode|s|S|Q|R|cap|critical_level", numbers as repr(float) and "" when missing; missing when the
    sku, family or mode is."""
    names = [table[c].astype(str) for c in ("sku", "family", "mode")]
    missing = np.logical_or.reduce([n.isna().to_numpy() for n in names])
    parts = [n.to_numpy(dtype=object) for n in names] + [_number_text(_parameter(table, c)) for c in PARAMETERS]
    keys = ["|".join(row) for row in zip(*parts)] if not missing.any() else [
        np.nan if gap else "|".join(row) for gap, row in zip(missing, zip(*parts))]
    return pd.Series(keys, index=table.index, dtype=names[0].dtype)


def _row_codes(evaluations: pd.DataFrame, new: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer codes per row of `evaluations` and of `new`, equal exactly when the rows' policy_keys
    are equal, found column by column (pd.factorize) without building the text keys; None when a
    key could be missing, a name holds "|" (two different rows could then join to the same text) or
    a number column is of an unusual type: the caller then compares the text keys themselves."""
    n_old = len(evaluations)
    ids = np.zeros(n_old + len(new), dtype=np.int64)
    for c in ("sku", "family", "mode"):
        names = pd.concat([evaluations[c].astype(str), new[c].astype(str)], ignore_index=True)
        codes, distinct = pd.factorize(names, use_na_sentinel=True)
        if (codes < 0).any() or any("|" in str(x) for x in distinct.tolist()):
            return None
        ids = pd.factorize(ids * len(distinct) + codes)[0]
    for c in PARAMETERS:
        columns = (_parameter(evaluations, c), _parameter(new, c))
        if any(not (pd.api.types.is_float_dtype(x) or pd.api.types.is_integer_dtype(x))
               or pd.api.types.is_extension_array_dtype(x) for x in columns):
            return None
        values = np.concatenate([x.to_numpy(dtype=np.float64) for x in columns])
        # The key's text is repr(float): equal exactly when the bit patterns are (0.0 and -0.0
        # apart); every missing value is "" (one canonical NaN).
        bits = np.where(np.isnan(values), np.nan, values).view(np.int64)
        codes, distinct = pd.factorize(bits)
        ids = pd.factorize(ids * len(distinct) + codes)[0]
    return ids[:n_old], ids[n_old:]


def add_new(evaluations: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The rows of `new` (policies) not already in `evaluations`, without duplicates."""
    if new is None or new.empty:
        return new.iloc[0:0] if new is not None else pd.DataFrame(columns=POLICY_COLUMNS)
    codes = _row_codes(evaluations, new)
    if codes is not None:  # the same rows as the text keys below, without building them
        old_ids, new_ids = codes
        seen = np.isin(new_ids, old_ids)
        keep = ~seen & ~pd.Series(new_ids).duplicated().to_numpy()
        return new[keep].reset_index(drop=True)
    known = set(policy_keys(evaluations))
    keys = policy_keys(new)
    if keys.isna().any():
        seen = keys.isin(known).to_numpy()
    else:  # plain set look-ups: pandas' isin of text against a large set is far slower
        seen = np.fromiter((k in known for k in keys.tolist()), dtype=bool, count=len(keys))
    keep = ~seen & ~keys.duplicated().to_numpy()
    return new[keep].reset_index(drop=True)


def matches(table: pd.DataFrame, policies: pd.DataFrame) -> np.ndarray:
    """Boolean mask over `table`'s rows: the row's policy is one of `policies`' (as policy_keys
    compares them)."""
    if policies is None or policies.empty or table.empty:
        return np.zeros(len(table), dtype=bool)
    codes = _row_codes(table, policies)
    if codes is not None:
        return np.isin(codes[0], codes[1])
    return policy_keys(table).isin(set(policy_keys(policies))).to_numpy()
