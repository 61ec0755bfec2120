"""contenders (grouped by SKU once) against a brute-force filter of the whole table per chosen row."""

from __future__ import annotations

import numpy as np
import pandas as pd

import synthetic as syn
from optimizer import select
from optimizer.refine import contenders


def _contenders_by_filter(ev: pd.DataFrame, plan, per_sku: int = 5) -> pd.DataFrame:
    """Brute force: each chosen row's SKU filtered from the whole table, rows within the summed
    half-widths sorted by distance (ties in table order), the chosen row first."""
    from optimizer.refine import _lagrangian

    score, ci = _lagrangian(ev, plan)
    ch_score, ch_ci = _lagrangian(plan.choice, plan)
    cols = ["sku", "family", "mode", "s", "S", "Q", "R", "cap"]
    out = []
    for i, (_, chosen) in enumerate(plan.choice.iterrows()):
        rows = [j for j in range(len(ev)) if ev["sku"].iloc[j] == chosen["sku"]]
        same = [j for j in rows if all(pd.isna(ev[c].iloc[j]) and pd.isna(chosen[c]) or ev[c].iloc[j] == chosen[c]
                                       for c in cols)]
        close = [j for j in rows if j not in same and abs(score[j] - ch_score[i]) <= ci[j] + ch_ci[i]]
        if close:
            close.sort(key=lambda j: abs(score[j] - ch_score[i]))  # stable: ties keep table order
            out += same[:1] + close[:per_sku]
    return ev.iloc[out].reset_index(drop=True)


def test_contenders_match_a_brute_force_filter_with_ties_and_the_cap():
    sc = syn.scenario(6)
    ev = syn.evaluations(sc, 9, seed=4)
    g = np.random.default_rng(7)
    # Few distinct costs and wide intervals: many overlaps, many equal distances, more than per_sku.
    ev["cost_total"] = 10.0 + g.integers(0, 4, len(ev)) * 0.5
    ev["cost_total_ci"] = 1.2
    ev = ev.iloc[g.permutation(len(ev))].reset_index(drop=True)  # SKUs interleaved
    plan = select(sc, ev)
    for per_sku in (2, 5):
        got = contenders(ev, plan, per_sku=per_sku)
        want = _contenders_by_filter(ev, plan, per_sku=per_sku)
        assert len(want) > len(sc.skus)
        pd.testing.assert_frame_equal(got, want)
