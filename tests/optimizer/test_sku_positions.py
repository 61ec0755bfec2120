"""optimizer.keys.positions: each value's position in a list of ids, whatever the column's dtype
(Arrow strings, as the head keeps its text columns, or Python objects), checked against a plain
dictionary lookup written out here."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.keys import positions

TEXTS = st.text(alphabet="ab-=é\u202e0 ", max_size=3)


@settings(max_examples=80, deadline=None)
@given(ids=st.lists(TEXTS, unique=True, max_size=6), values=st.lists(st.one_of(st.none(), TEXTS), max_size=12))
def test_positions_are_a_lookup_of_each_value_and_minus_one_elsewhere(ids, values):
    expected = [ids.index(v) if v in ids else -1 for v in values]
    for dtype in ("str", object):
        got = positions(pd.Series(values, dtype=dtype), ids)
        assert got.dtype == np.int64 and got.tolist() == expected
