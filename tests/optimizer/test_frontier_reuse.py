"""The frontier sweep built once and re-solved along the levels (issue 14): the decomposition, with
everything it carries from level to level (cuts, multipliers, plans, bounds, the persistent master
and finishing MILP), gives the plans of the monolithic reference MILP (optimizer.model.solve_milp,
rebuilt per call) and of brute force, at every level, in any order of levels; a sweep builds its
models once (counted in optimizer.solver and, independently, on Pyomo's HiGHS class); equal
evaluation tables share one sweep (memoised by content, not by object)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pyomo.contrib.solver.solvers.highs import Highs

import optimizer
import synthetic as syn
from optimizer import frontier, frontier_plans
from optimizer import solver as hs
from optimizer.frontier import clear_memo
from optimizer.model import solve_milp
from optimizer.problem import prepare
from optimizer.select import Selector
from scenarios.abc import sku_classes

LEVELS = [0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97]


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memo()
    yield
    clear_memo()


def brute_force(sc, ev, levels):
    """Cheapest logistics cost per level over every combination (vectorised), under the scenario's
    class floors and inventory budget; np.inf where no combination meets the level."""
    cls = sku_classes(sc)
    groups = [g for _, g in ev.groupby("sku", sort=False)]
    idx = np.array(list(itertools.product(*[g.index.to_numpy() for g in groups])))
    d, m = ev["demand_per_period"].to_numpy(), ev["fill_rate"].to_numpy()
    cost = (ev["cost_total"] - ev["cost_shortage"]).to_numpy()[idx].sum(axis=1)
    dm, dd = (d * m)[idx].sum(axis=1), d[idx].sum(axis=1)
    ok = np.ones(len(idx), dtype=bool)
    klass = ev["sku"].map(cls).to_numpy()
    for c, floor in sc.service.floors.items():
        mask = (klass == c)[idx]
        ok &= (d * m)[idx].sum(axis=1, where=mask) >= floor * d[idx].sum(axis=1, where=mask) - 1e-12
    if sc.budget.inventory_value is not None:
        ok &= ev["inventory_value"].to_numpy()[idx].sum(axis=1) <= sc.budget.inventory_value + 1e-9
    return {t: float(np.min(np.where(ok & (dm >= t * dd - 1e-12), cost, np.inf))) for t in levels}


def reference(sc, ev, level, mip_gap=0.0):
    """The monolithic reference MILP at one level, built from scratch."""
    p = prepare(sc, ev, "logistics", with_service=True)
    sol = solve_milp(p.cost, p.group, p.n_groups, p.coupling_rows(level),
                     hs.SolverOptions(time_limit=60, mip_gap=mip_gap), want_duals=False)
    return sol.objective if sol.choice is not None else np.inf


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sweep_equals_brute_force_and_reference_at_every_level(seed):
    extra = [{}, {"budget": {"inventory_value": 1400.0}}, {"service": {"floors": {"A": 0.93}}},
             {"service": {"floors": {"A": 0.9}}, "budget": {"inventory_value": 1600.0}}][seed]
    sc = syn.scenario(4, solver={"mip_gap": 0.0}, **extra)
    ev = syn.evaluations(sc, 5, seed=seed)
    best = brute_force(sc, ev, LEVELS)
    assert np.isfinite(best[LEVELS[0]])
    for method in ("decomposition", "milp"):
        fr = frontier(sc, ev, levels=LEVELS, method=method)
        rows = fr[~fr["cost_optimal"]].set_index("target")
        infeasible = {lv for lv, _ in fr.attrs["infeasible"]}
        for level in LEVELS:
            if not np.isfinite(best[level]):
                assert level in infeasible
                continue
            assert rows.loc[level, "cost_logistics"] == pytest.approx(best[level], rel=1e-9, abs=1e-9), (method, level)
            assert rows.loc[level, "achieved"] >= level - 1e-9
            assert rows.loc[level, "cost_logistics"] == pytest.approx(reference(sc, ev, level), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_one_selector_in_any_order_of_levels_equals_fresh_solves(order):
    """What a Selector carries between solves (plans, bounds, cuts, multipliers) never changes the
    answer: levels asked in any order give the optimum of a fresh reference MILP at that level."""
    sc = syn.scenario(40, service={"floors": {"B": 0.9}}, budget={"inventory_value": 2.2e4},
                      solver={"mip_gap": 1e-9})
    ev = syn.evaluations(sc, 10, seed=7)
    levels = list(LEVELS)
    if order == "descending":
        levels = levels[::-1]
    elif order == "shuffled":
        levels = list(np.random.default_rng(3).permutation(levels))
    sel = Selector(sc, ev, cost_optimal=False, method="decomposition")
    for level in levels:
        plan = sel.solve(float(level))
        ref = reference(sc, ev, float(level), mip_gap=1e-9)
        assert plan.objective == pytest.approx(ref, rel=1e-7), level
        assert plan.achieved >= level - 1e-9
        assert plan.bound <= ref + 1e-7 * abs(ref)  # a proven bound, not an optimistic one
        assert plan.gap <= 1e-7


def test_decomposition_and_milp_sweeps_agree_on_a_medium_case_with_duals():
    sc = syn.scenario(80, service={"floors": {"A": 0.92}}, solver={"mip_gap": 1e-9})
    ev = syn.evaluations(sc, 12, seed=11)
    a = frontier(sc, ev, levels=LEVELS, method="milp")
    b = frontier(sc, ev, levels=LEVELS, method="decomposition")
    assert np.allclose(a["cost_logistics"], b["cost_logistics"], rtol=1e-7)
    # the target row's LP dual: the monolithic LP relaxation's and the master's multipliers
    assert np.allclose(a["service_dual"].fillna(0), b["service_dual"].fillna(0), rtol=1e-4, atol=1e-6)
    for level in (0.9, 0.95):  # and the same as a one-off selection at that level
        plan = optimizer.select(sc, ev, target=level, method="decomposition", mip_gap=1e-9)
        row = b[b["target"] == level].iloc[0]
        assert row["cost_logistics"] == pytest.approx(plan.cost_logistics, rel=1e-7)
        assert row["service_dual"] == pytest.approx(plan.service_dual, rel=1e-4, abs=1e-6)


class Count:
    """HiGHS runs and models built into HiGHS, counted on Pyomo's Highs class (independent of the
    optimiser's own counters, so the same count applies to any version of the optimiser)."""

    def __init__(self, monkeypatch):
        self.solves = self.builds = 0
        solve, set_instance = Highs.solve, Highs.set_instance

        def counted_solve(obj, *a, **k):
            self.solves += 1
            return solve(obj, *a, **k)

        def counted_set_instance(obj, *a, **k):
            self.builds += 1
            return set_instance(obj, *a, **k)

        monkeypatch.setattr(Highs, "solve", counted_solve)
        monkeypatch.setattr(Highs, "set_instance", counted_set_instance)


@pytest.mark.parametrize("method", ["decomposition", "milp"])
def test_a_sweep_builds_its_models_once(method, monkeypatch):
    """Eight levels: the cost-optimal selection builds at most its two models (master and finishing
    MILP, or MILP and LP relaxation), the target selection at most its two; no model is built per
    level. (Before issue 14 every level built its own: 16 or more.)"""
    sc = syn.scenario(150, service={"floors": {"A": 0.93}}, budget={"inventory_value": 7e4},
                      solver={"mip_gap": 1e-6})
    ev = syn.evaluations(sc, 14, seed=5)
    count = Count(monkeypatch)
    before = hs.counts()
    fr = frontier(sc, ev, levels=LEVELS, method=method)
    after = hs.counts()
    assert len(fr) == len(LEVELS) + 1 and (fr["status"] == "optimal").all()
    assert count.builds <= 4, count.builds
    assert after["builds"] - before["builds"] == count.builds
    assert after["highs_calls"] - before["highs_calls"] == count.solves
    per_level = 3 if method == "milp" else 25  # LP + MILP (fewer when a known plan is proven); master LPs + MILPs
    assert count.solves <= per_level * (len(LEVELS) + 1), count.solves


def test_equal_tables_share_one_sweep_and_a_changed_table_does_not(monkeypatch):
    sc = syn.scenario(30, service={"floors": {"A": 0.9}}, solver={"mip_gap": 1e-6})
    ev = syn.evaluations(sc, 8, seed=2)
    count = Count(monkeypatch)
    plans = frontier_plans(sc, ev)  # as a refine round asks for them
    first = count.solves
    assert first > 0
    fr = frontier(sc, ev.copy())  # another object, the same content: the same sweep
    assert count.solves == first
    feasible = sorted(set(sc.service.frontier) - {lv for lv, _ in fr.attrs["infeasible"]})
    assert [p.target for p in plans] == [None, *feasible] and len(feasible) >= 3
    by_level = {p.target: p for p in plans}
    for row in fr.itertuples():
        plan = by_level[None if row.cost_optimal else row.target]
        assert row.cost_logistics == pytest.approx(plan.cost_logistics, rel=1e-12)
    plans[1].choice.loc[0, "cost_total"] = -1.0  # a caller's copy: the memo is not changed through it
    again = frontier_plans(sc, ev)
    assert again[1].choice.loc[0, "cost_total"] != -1.0 and count.solves == first
    changed = ev.copy()
    changed.loc[3, "cost_carrying"] += 1.0
    changed.loc[3, "cost_total"] += 1.0
    frontier(sc, changed)
    assert count.solves > first  # new content: a new sweep


def test_levels_above_an_unreachable_one_are_not_diagnosed_again(monkeypatch):
    """The best achievable level does not depend on the target: once a level cannot be met (here the
    inventory budget blocks it, which only a solve can tell), higher levels report the same best level
    without another diagnosis (each diagnosis is a series of solves)."""
    sc = syn.scenario(4, budget={"inventory_value": 400.0}, solver={"mip_gap": 0.0})
    ev = syn.evaluations(sc, 5, seed=2)  # every SKU at its best candidate: 0.956, over the budget
    count = Count(monkeypatch)
    fr = frontier(sc, ev, levels=[0.8, 0.93], method="milp")
    one = count.solves
    clear_memo()
    count.solves = 0
    fr3 = frontier(sc, ev, levels=[0.8, 0.93, 0.94, 0.95], method="milp")
    assert count.solves == one
    levels = fr3.attrs["infeasible"]
    assert [lv for lv, _ in levels] == [0.93, 0.94, 0.95]
    assert len({b for _, b in levels}) == 1 and levels[0][1] == fr.attrs["infeasible"][0][1]
    assert levels[0][1] == pytest.approx(0.9063417369, abs=1e-8)  # the best level within the budget


@pytest.mark.parametrize("finish", [True, False])
def test_a_sweep_takes_its_plans_rows_once_its_selectors_are_gone(monkeypatch, finish):
    """The head's memory peaked where a selector's arrays and every level's chosen rows were held
    together: the rows are taken only once no selector of the sweep is alive, and each plan's rows
    are those of a one-off selection at its level (same rows of the table, same cost)."""
    import importlib
    import weakref

    sweep_module = importlib.import_module("optimizer.frontier")  # the package's `frontier` is the function

    alive = weakref.WeakSet()
    built = Selector.__init__

    def tracked(self, *a, **k):
        built(self, *a, **k)
        alive.add(self)

    taken = []
    with_choice = sweep_module.with_choice

    def counted(*args):
        taken.append(len(alive))
        return with_choice(*args)

    monkeypatch.setattr(Selector, "__init__", tracked)
    monkeypatch.setattr(sweep_module, "with_choice", counted)
    sc = syn.scenario(60, service={"floors": {"B": 0.9}}, solver={"mip_gap": 1e-9})
    ev = syn.evaluations(sc, 10, seed=5)
    plans = frontier_plans(sc, ev, levels=LEVELS, method="decomposition", finish=finish)
    assert len(taken) == len(plans) and max(taken) == 0
    if finish:
        for plan in plans[1:]:
            alone = optimizer.select(sc, ev, target=plan.target, method="decomposition", mip_gap=1e-9)
            assert plan.cost_logistics == pytest.approx(alone.cost_logistics, rel=1e-7)
            assert list(plan.choice.columns) == list(alone.choice.columns)
            assert len(plan.choice) == len(sc.skus)
