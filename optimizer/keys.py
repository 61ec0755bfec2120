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


def positions(values: pd.Series, ids: list[str]) -> np.ndarray:
    """Each of `values`' position in `ids` (distinct texts, such as the scenario's SKU ids) as an
    int64 array of len(values); -1 where a value is missing or not one of `ids`. One hash lookup per
    value: in Arrow's compute when the values are Arrow strings (the head's text columns,
    tradeoff.search.head_table), without making a Python string of each; pandas' Index otherwise."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and all(isinstance(i, str) for i in ids):
        import pyarrow as pa
        import pyarrow.compute as pc

        arrow = pa.array(values.array)
        found = pc.index_in(arrow, value_set=pa.array(ids, type=arrow.type))
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.Index(ids, dtype=object).get_indexer(values.astype(object)).astype(np.int64)


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


_RADIX_LIMIT = 2**62  # combined codes stay below this: exact in int64


class JointCodes:
    """Integer codes of rows by several columns at once: equal exactly when every column's code is.
    Each column's codes (0 .. n - 1) are appended as one more digit of a mixed-radix number, so no
    column but the first costs a pass over the combined codes (no re-factorizing after every
    column); only when the next digit could overflow int64 are the
    codes so far renumbered densely (pd.factorize keeps their equality, not their order). The codes
    are not dense: use them for equality (np.isin, duplicated), not as positions."""

    def __init__(self, rows: int):
        self.ids = np.zeros(rows, dtype=np.int64)
        self.size = 1  # every id is below this

    def add(self, codes: np.ndarray, n: int) -> None:
        """One more column: `codes` (int, 0 .. n - 1 per row)."""
        n = max(int(n), 1)
        if self.size * n >= _RADIX_LIMIT:
            self.ids, distinct = pd.factorize(self.ids)
            self.size = max(len(distinct), 1)
        self.ids = self.ids * n + codes
        self.size *= n


def _holds_texts(column: pd.Series) -> bool:
    """Whether every value of `column` is certainly a text or missing: pandas' string dtype, or
    objects that are all str (a C pass over the values, no copy)."""
    return isinstance(column.dtype, pd.StringDtype) or (
        column.dtype == object and pd.api.types.infer_dtype(column, skipna=False) == "string")


def shared_codes(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, list]:
    """Codes (int64) of the values of two columns, the rows of `first` then those of `second`, equal
    exactly when pd.factorize of the two columns joined makes them equal (-1: missing), and the
    distinct values. Two text columns without missing values are factorized each on its own and
    only their few distinct texts matched (equal str objects are equal texts): no copy of the two
    joined, and no conversion of pandas' Arrow-backed strings to Python objects."""
    if _holds_texts(first) and _holds_texts(second):
        (codes, texts), (more, more_texts) = [pd.factorize(x) for x in (first, second)]
        if not ((codes < 0).any() or (more < 0).any()):
            position = {text: k for k, text in enumerate(texts.tolist())}
            for text in more_texts.tolist():
                position.setdefault(text, len(position))
            remap = np.array([position[text] for text in more_texts.tolist()], dtype=np.int64)
            return np.concatenate([codes.astype(np.int64), remap[more]]), list(position)
    codes, distinct = pd.factorize(pd.concat([first, second], ignore_index=True))
    return codes.astype(np.int64), distinct.tolist()


def _row_codes(evaluations: pd.DataFrame, new: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer codes per row of `evaluations` and of `new`, equal exactly when the rows' policy_keys
    are equal, found column by column (pd.factorize, combined by JointCodes) without building the
    text keys; None when a key could be missing, a name holds "|" (two different rows could then
    join to the same text) or a number column is of an unusual type: the caller then compares the
    text keys themselves."""
    n_old = len(evaluations)
    joint = JointCodes(n_old + len(new))
    for c in ("sku", "family", "mode"):
        # The key holds astype(str) of each name; a column of texts is its own texts (no copy).
        names = [x if _holds_texts(x) else x.astype(str) for x in (evaluations[c], new[c])]
        codes, distinct = shared_codes(*names)
        if (codes < 0).any() or any("|" in str(x) for x in distinct):
            return None
        joint.add(codes, len(distinct))
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
        joint.add(codes, len(distinct))
    return joint.ids[:n_old], joint.ids[n_old:]


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
