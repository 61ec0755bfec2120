"""optimizer.refine's helpers for the SKU-chunk tasks (cheapest_per_sku, cheapest_per_way, close_rivals)
against plain Python loops written from their docstrings, on tables hypothesis draws with many ties
(scores and half-widths from a few values)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.refine import cheapest_per_sku, cheapest_per_way, close_rivals

# Few distinct values: ties are common. Exact binary fractions: the brute force's arithmetic
# (|a - b| <= c + d) is the same whatever order it is done in.
SCORES = st.sampled_from([-2.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 3.0, 1e6, math.inf])
HALF_WIDTHS = st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0])


def brute_cheapest(codes: list[int], score: list[float]) -> list[int]:
    """Per code 0 .. max code: the first row of least score, -1 for a code without rows."""
    n = max(codes) + 1 if codes else 0
    out = []
    for c in range(n):
        best = -1
        for j, (cj, s) in enumerate(zip(codes, score)):
            if cj == c and (best == -1 or s < score[best]):
                best = j
        out.append(best)
    return out


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), SCORES), max_size=40))
def test_cheapest_per_sku(rows):
    codes = [c for c, _ in rows]
    score = [s for _, s in rows]
    got = cheapest_per_sku(np.array(codes, dtype=np.int64), np.array(score, dtype=float))
    assert got.tolist() == brute_cheapest(codes, score)


def _way_key(row) -> tuple:
    """(sku, family, mode, R) with every missing value the same key (groupby(dropna=False))."""
    return tuple(None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in row)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["sS", "rQ"]),
                          st.sampled_from(["truck", "air", None]), st.sampled_from([0.0, 1.0, 2.0, math.nan]),
                          SCORES), min_size=1, max_size=40))
def test_cheapest_per_way(rows):
    table = pd.DataFrame(rows, columns=["sku", "family", "mode", "R", "score"])
    score = table["score"].to_numpy(float)
    best: dict[tuple, int] = {}
    for j, row in enumerate(table[["sku", "family", "mode", "R"]].itertuples(index=False)):
        key = _way_key(row)
        if key not in best or score[j] < score[best[key]]:
            best[key] = j
    got = cheapest_per_way(table.drop(columns="score"), score)
    assert sorted(got.tolist()) == sorted(best.values())  # one row per way, the first of least score
    assert len(got) == len(best)


def brute_rivals(codes: list[int], chosen: list[int], score: list[float], ci: list[float], per_sku: int) -> list[int]:
    """Per SKU with a chosen row: the other rows of that SKU with |score - chosen's| <= ci + chosen's
    ci, closest first (ties in row order), at most per_sku, and the chosen row when there is any."""
    out: set[int] = set()
    for c, pick in enumerate(chosen):
        if pick < 0:
            continue
        near = [(abs(score[j] - score[pick]), j) for j in range(len(codes))
                if codes[j] == c and j != pick and abs(score[j] - score[pick]) <= ci[j] + ci[pick]]
        near.sort()  # by distance, then row
        if near:
            out.update(j for _, j in near[:per_sku])
            out.add(pick)
    return sorted(out)


@st.composite
def rival_cases(draw):
    n_codes = draw(st.integers(1, 5))
    codes = draw(st.lists(st.integers(0, n_codes - 1), min_size=1, max_size=30))
    n = len(codes)
    score = draw(st.lists(SCORES.filter(math.isfinite), min_size=n, max_size=n))
    ci = draw(st.lists(HALF_WIDTHS, min_size=n, max_size=n))
    chosen = []
    for c in range(max(codes) + 1):
        rows = [j for j in range(n) if codes[j] == c]
        # a row of the SKU, or none (-1): a SKU without rows, or one the head chose nothing for
        chosen.append(draw(st.sampled_from(rows + [-1])) if rows else -1)
    per_sku = draw(st.integers(1, 4))
    return codes, chosen, score, ci, per_sku


@settings(max_examples=400, derandomize=True, deadline=None)
@given(rival_cases())
def test_close_rivals(case):
    codes, chosen, score, ci, per_sku = case
    got = close_rivals(np.array(codes, dtype=np.int64), np.array(chosen, dtype=np.int64),
                       np.array(score, dtype=float), np.array(ci, dtype=float), per_sku)
    assert sorted(got.tolist()) == brute_rivals(codes, chosen, score, ci, per_sku)
    assert len(set(got.tolist())) == len(got)


def test_close_rivals_example():
    """By hand: SKU 0 chose row 0 (score 1, ci 0.5); row 1 is 0.375 away (ci 0.125: within 0.625), row 2
    0.625 away (exactly 0.625: within), row 3 2 away (out); row 4 is SKU 1's, which chose nothing.
    per_sku=1 keeps the closest, row 1, and the chosen row."""
    codes = np.array([0, 0, 0, 0, 1])
    score = np.array([1.0, 1.375, 0.375, 3.0, 1.0])
    ci = np.array([0.5, 0.125, 0.125, 0.0, 9.0])
    chosen = np.array([0, -1])
    assert close_rivals(codes, chosen, score, ci, 1).tolist() == [0, 1]
    assert close_rivals(codes, chosen, score, ci, 5).tolist() == [0, 1, 2]
    assert close_rivals(codes, np.array([3, -1]), score, ci, 5).tolist() == []  # row 3 has no rival
