"""tradeoff.gather.ColumnGather against pandas' own concatenation (the reference it replaces at the
head): the same table whatever the order parts arrive in, and no column left sharing memory with
its part (the head would otherwise keep every part alive beside the whole)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeoff.gather import ColumnGather
from tradeoff.search import head_table

TEXT = st.sampled_from(["truck", "rail", "B000001", "", "é", "=1+1"])


@st.composite
def parts(draw):
    """2-6 parts with the run's kinds of columns: Arrow text, object text, floats (NaN too), ints, and
    an int column that is float in some parts (pd.concat then gives float)."""
    n_parts = draw(st.integers(1, 6))
    mixed = draw(st.lists(st.booleans(), min_size=n_parts, max_size=n_parts))
    out = []
    for k in range(n_parts):
        n = draw(st.integers(1, 7))
        floats = draw(st.lists(st.one_of(st.floats(allow_infinity=False), st.just(np.nan)), min_size=n, max_size=n))
        ints = draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n))
        out.append(pd.DataFrame({
            "sku": pd.Series(draw(st.lists(TEXT, min_size=n, max_size=n)), dtype="str"),
            "mode": pd.Series(draw(st.lists(TEXT, min_size=n, max_size=n)), dtype=object),
            "S": np.array(floats, dtype=float),
            "R": np.array(ints, dtype=float if mixed[k] else np.int64),
            "replications": np.array(ints, dtype=np.int64),
        }, index=np.arange(n) + 10 * k))  # an index of its own: the gather renumbers, as ignore_index does
    return out


@given(parts(), st.randoms())
@settings(max_examples=80, deadline=None)
def test_equals_pandas_concat_in_any_arrival_order(table_parts, rnd):
    expected = pd.concat(table_parts, ignore_index=True)
    gather = ColumnGather(len(table_parts))
    order = list(range(len(table_parts)))
    rnd.shuffle(order)
    for k in order:
        gather.add(k, table_parts[k])
    pd.testing.assert_frame_equal(gather.frame(), expected)
    assert gather.frame().empty  # taken once


def test_a_part_is_freed_once_added():
    # One 2-D block that owns its data, as the columns of a part unpickled at the head are.
    block = np.arange(10.0).reshape(5, 2).copy()
    freed = weakref.ref(block)
    part = pd.DataFrame(block, columns=["a", "b"], copy=False)
    del block
    gather = ColumnGather(1)
    gather.add(0, part)
    del part
    gc.collect()
    assert freed() is None  # no gathered column is a view on the part's block
    expected = pd.DataFrame({"a": np.arange(0.0, 10, 2), "b": np.arange(1.0, 10, 2)})
    pd.testing.assert_frame_equal(gather.frame(), expected)


def test_parts_that_do_not_fit_are_refused():
    gather = ColumnGather(2)
    gather.add(0, pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ValueError, match="part 1 has columns"):
        gather.add(1, pd.DataFrame({"b": [1.0]}))
    with pytest.raises(ValueError, match="added twice"):
        gather.add(0, pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ValueError, match=r"parts \[1\] were never added"):
        gather.frame()


def test_head_table_keeps_text_as_arrow_strings_and_numbers_as_they_are():
    table = pd.DataFrame({"sku": ["B1", "B2"], "family": ["sS", "rQ"],
                          "mode": pd.Series(["truck", "rail"], dtype=object), "S": [3.0, 4.0], "R": [0, 2]})
    out = head_table(table)
    assert [str(out[c].dtype) for c in ("sku", "family", "mode")] == ["str"] * 3
    assert out["S"].dtype == np.float64 and out["R"].dtype == np.int64
    assert out.astype(object).equals(table.astype(object))
