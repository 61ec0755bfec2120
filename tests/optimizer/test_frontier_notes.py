"""The exchange curve's rows below the cheapest reachable service (issue 15, point 1): each row is the
plan of least logistics cost at or above its level (brute force over every combination of candidates,
tiny instances), and a row whose plan serves more than half a point above its level says why, naming
the rule that holds it there (a class floor, through its LP dual) or saying that no plan nearer the
level costs less."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import synthetic as syn
from optimizer import frontier


def brute(ev, ok):
    """(least logistics cost, its achieved fill rate) over every choice of one row per SKU meeting ok(rows)."""
    groups = [np.flatnonzero(ev["sku"].to_numpy() == s) for s in ev["sku"].unique()]
    best = (np.inf, np.nan)
    for pick in itertools.product(*groups):
        rows = ev.iloc[list(pick)]
        if ok(rows):
            cost = float((rows["cost_total"] - rows["cost_shortage"]).sum())
            d = rows["demand_per_period"].to_numpy()
            best = min(best, (cost, float((d * rows["fill_rate"].to_numpy()).sum() / d.sum())))
    return best


def level(rows, skus=None):
    r = rows if skus is None else rows[rows["sku"].isin(skus)]
    d = r["demand_per_period"].to_numpy()
    return float((d * r["fill_rate"].to_numpy()).sum() / d.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rows_below_a_binding_class_floor_name_the_floor(seed):
    classes = {"s0000": "A", "s0001": "B", "s0002": "B"}
    ev = syn.evaluations(syn.scenario(3), 5, seed=seed)
    floor = float(np.sort(ev.loc[ev["sku"] == "s0000", "fill_rate"].to_numpy())[-2])  # met by 2 of 5 rows
    sc = syn.scenario(3, service={"floors": {"A": floor}, "frontier": [0.5, 0.6, 0.7]})
    sc = sc.model_copy(update={"skus": tuple(s.model_copy(update={"class_": classes[s.id]}) for s in sc.skus)})
    ev["class"] = ev["sku"].map(classes)
    df = frontier(sc, ev, method="milp")
    floor_ok = lambda r: level(r, ["s0000"]) >= floor - 1e-12  # noqa: E731
    named = 0
    for row in df[df["target"].notna()].itertuples():
        at_level = lambda r, t=row.target: level(r) >= t - 1e-12  # noqa: E731
        cost, achieved = brute(ev, lambda r: floor_ok(r) and at_level(r))
        assert row.cost_logistics == pytest.approx(cost, rel=1e-6) and row.achieved == pytest.approx(achieved)
        if row.achieved <= row.target + 0.005:
            assert not isinstance(row.note, str)
        elif row.note.startswith("service.floors.A holds the cheapest plan"):
            # the note's claim, exactly: without the floor the cheapest plan at the level costs less
            assert brute(ev, at_level)[0] < cost - 1e-9, row.note
            named += 1
        else:
            assert row.note.startswith("the cheapest plan at or above"), row.note
    assert named  # the floor binds in these instances (its floor is met by 2 of the SKU's 5 rows)


def test_rows_without_a_rule_say_no_nearer_plan_costs_less():
    sc = syn.scenario(3, service={"frontier": [0.3, 0.4]})
    ev = syn.evaluations(sc, 5, seed=4)
    df = frontier(sc, ev, method="milp")
    lowest = brute(ev, lambda r: True)[1]
    for row in df[df["target"].notna()].itertuples():
        assert row.achieved == pytest.approx(max(lowest, brute(ev, lambda r, t=row.target: level(r) >= t)[1]))
        if row.achieved > row.target + 0.005:
            assert row.note.startswith("the cheapest plan at or above"), row.note


@pytest.mark.parametrize("level", [0.6, None])
def test_with_plan_puts_the_recommended_plan_on_the_curve(level):
    # The curve after tightening carries the recommended plan itself as the row of its level (or the
    # cost-optimal row): the report's marker is then one of the curve's points exactly.
    from optimizer import select
    from optimizer.frontier import with_plan

    sc = syn.scenario(3, service={"frontier": [0.5, 0.6, 0.7]})
    ev = syn.evaluations(sc, 5, seed=7)
    df = frontier(sc, ev, method="milp")
    plan = select(sc, ev, target=level if level is not None else "cost_optimal", method="milp")
    out = with_plan(df, plan, level, "the recommended plan")
    row = out[out["note"] == "the recommended plan"]
    assert len(row) == 1 and row["achieved"].iloc[0] == pytest.approx(plan.achieved)
    assert row["cost_total"].iloc[0] == pytest.approx(plan.cost_total)
    assert bool(row["cost_optimal"].iloc[0]) == (level is None)
    assert out["achieved"].is_monotonic_increasing
    d_cost, d_pts = out["cost_logistics"].diff(), out["achieved"].diff() * 100
    ok = d_pts > 1e-12
    assert np.allclose(out.loc[ok, "marginal_cost"], (d_cost / d_pts)[ok])
