"""frontier_plans(..., finish=False): each level's Lagrangian prices and the price-optimal choice at
them, without the finishing MILPs (what the chunks' refinement reads, tradeoff.search)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pe
import pytest
from pyomo.contrib.solver.solvers.highs import Highs

import synthetic as syn
from optimizer import frontier, frontier_plans
from optimizer.frontier import clear_memo
from scenarios.abc import sku_classes

LEVELS = [0.9, 0.93, 0.95, 0.97]


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memo()
    yield
    clear_memo()


def _case():
    sc = syn.scenario(80, service={"floors": {"A": 0.92}}, solver={"mip_gap": 1e-9})
    return sc, syn.evaluations(sc, 12, seed=11)


def test_prices_only_levels_carry_the_lp_duals_and_a_price_optimal_choice():
    sc, ev = _case()
    milp = frontier(sc, ev, levels=LEVELS, method="milp")  # the monolithic model's LP duals
    plans = frontier_plans(sc, ev, levels=LEVELS, method="decomposition", finish=False)
    classes = sku_classes(sc)
    for plan in plans[1:]:
        assert np.isnan(plan.gap)  # not a proven plan
        row = milp[milp["target"] == plan.target].iloc[0]
        assert plan.service_dual == pytest.approx(row["service_dual"], rel=1e-4, abs=1e-6)
        # each SKU's chosen row is one of its least reduced cost at the plan's prices (brute force)
        score = plan.prices.reduced_cost(sc, ev, ev["sku"].map(classes).to_numpy(dtype=object))
        least = ev.assign(score=score).groupby("sku")["score"].min()
        chosen = plan.prices.reduced_cost(sc, plan.choice, plan.choice["sku"].map(classes).to_numpy(dtype=object))
        assert np.allclose(chosen, least.loc[plan.choice["sku"]].to_numpy(), rtol=0, atol=1e-9)


def test_prices_only_sweep_runs_no_finishing_milp(monkeypatch):
    sc, ev = _case()
    runs = {"mip": 0}
    solve = Highs.solve

    def counted(obj, model, *a, **k):
        runs["mip"] += any(v.is_integer() or v.is_binary() for v in model.component_data_objects(pe.Var, active=True))
        return solve(obj, model, *a, **k)

    monkeypatch.setattr(Highs, "solve", counted)
    frontier_plans(sc, ev, levels=LEVELS, method="decomposition", finish=False)
    assert runs["mip"] == 0
    frontier_plans(sc, ev, levels=LEVELS, method="decomposition")  # the finished sweep does run them
    assert runs["mip"] > 0
