"""Refine helpers: neighbours are new, valid and one step away; contenders are exactly the rows whose
interval overlaps the chosen one's; the stopping rule compares the gain with the total half-width."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthetic as syn
from optimizer import select
from optimizer.refine import cheapest_per_sku, close_rivals, gain_within_noise, neighbours
from scenarios.abc import sku_classes


def test_neighbours_new_valid_and_close():
    sc = syn.scenario(5, policies={"moq": 4, "pack_size": 2})
    ev = syn.evaluations(sc, 8, seed=0)
    ev["family"] = "sS"
    ev["s"] = ev["S"] - 10
    ev["R"] = 0
    plan = select(sc, ev)
    new = neighbours(sc, ev, plan)
    assert len(new) > 0
    keys = set(map(tuple, ev[["sku", "family", "mode", "s", "S"]].to_numpy().tolist()))
    assert not any(tuple(r) in keys for r in new[["sku", "family", "mode", "s", "S"]].to_numpy().tolist())
    assert (new["S"] > new["s"]).all() and (new["s"] >= 0).all()
    # each new row is one step (5 % of the level or of mean demand, >= 1 unit) from an evaluated row,
    # or a growing step: twice as far beyond an evaluated row x as x lies from a row z evaluated before
    # it, in steps (optimizer.refine._pattern)
    step = lambda v: max(1, round(0.05 * max(abs(v), 16.0)))  # noqa: E731  (mean demand <= 15 here)
    far = 0
    for r in new.itertuples():
        assert r.family == "sS" and r.R == 0
        same = ev[(ev["sku"] == r.sku) & (ev["mode"] == r.mode)]
        near = same[((same["s"] - r.s).abs() <= same["s"].map(step)) & ((same["S"] - r.S).abs() <= same["S"].map(step))]
        if len(near):
            continue
        pattern = [(i, j) for i, x in same.iterrows() for j, z in same.loc[:i - 1].iterrows()
                   if all((getattr(r, c) - x[c]) / step(x[c]) == 2 * (x[c] - z[c]) / step(z[c]) for c in ("s", "S"))]
        assert pattern, r
        far += 1
    assert far < len(new) / 2


def test_neighbours_respect_pack_and_moq():
    sc = syn.scenario(2, policies={"moq": 10, "pack_size": 4})
    ev = syn.evaluations(sc, 4, seed=1)
    ev["family"] = "rQ"
    ev["s"], ev["Q"], ev["S"] = ev["S"], 12.0, np.nan
    plan = select(sc, ev)
    new = neighbours(sc, ev, plan)
    q = new["Q"].dropna()
    assert len(q) and (q >= 10).all() and (q % 4 == 0).all()


def test_contenders_are_the_overlapping_rows():
    sc = syn.scenario(1)
    ev = syn.evaluations(sc, 5, seed=0)
    ev["cost_total"] = [10.0, 10.5, 12.0, 20.0, 10.2]
    ev["cost_shortage"] = 0.0
    ev["cost_total_ci"] = [0.3, 0.3, 0.3, 0.3, 0.01]
    plan = select(sc, ev)
    assert plan.choice["cost_total"].iloc[0] == 10.0
    classes = ev["sku"].map(sku_classes(sc)).to_numpy(object)
    score = plan.prices.reduced_cost(sc, ev, classes)  # cost-optimal, no binding rule: cost_total
    codes = np.zeros(len(ev), dtype=np.int64)
    rows = close_rivals(codes, cheapest_per_sku(codes, score), score, plan.prices.half_width(ev, classes))
    # |10.5 - 10| <= 0.6 and |10.2 - 10| <= 0.31 overlap; 12 and 20 do not; the chosen row is included
    assert sorted(ev["cost_total"].iloc[rows]) == [10.0, 10.2, 10.5]


def test_gain_within_noise():
    sc = syn.scenario(3)
    ev = syn.evaluations(sc, 4, seed=2)
    plan = select(sc, ev)
    assert gain_within_noise(None, plan) is False
    noise = float(np.sqrt((plan.choice["cost_total_ci"] ** 2).sum()))
    worse = type(plan)(**{**plan.__dict__, "objective": plan.objective + 0.5 * noise})
    much_worse = type(plan)(**{**plan.__dict__, "objective": plan.objective + 2 * noise})
    assert gain_within_noise(worse, plan) is True
    assert gain_within_noise(much_worse, plan) is False
