"""The exchange curve: the cheapest logistics cost for each aggregate service level of
`service.frontier`, plus the cost-optimal point, as the rows of frontier.csv (docs/outputs.md).

One sweep: a cost-optimal Selector and one target Selector whose models are built once and re-solved
level after level, ascending (see optimizer.select.Selector: the multipliers, plans and bounds of a
level carry to the next). The sweep is memoised by the fingerprints of the scenario and of the
evaluations table (optimizer.memo) with the levels, method, solver options and whether the levels
are finished: `frontier` and `frontier_plans` on the same content share one sweep, whoever asks
first; a prices-only sweep (`frontier_plans(..., finish=False)`) is kept apart. Only sweeps whose
plans are all proven optimal (within the MIP gap), or prices-only, are kept; `clear_memo()` empties
the memo.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from optimizer import solver as hs
from optimizer.errors import InfeasibleError
from optimizer.memo import LRU, scenario_fingerprint, table_fingerprint
from optimizer.plan import Plan, SolveStatus
from optimizer.problem import COST_BUCKETS
from optimizer.select import Selector, with_choice
from scenarios.gc_pause import without_gc_passes
from scenarios.heap import release_free_heap
from scenarios.schema import Scenario

FRONTIER_COLUMNS = ["target", "achieved", "cost_total", "cost_logistics", *COST_BUCKETS, "marginal_cost",
                    "implied_shortage_cost", "cost_optimal"]
EXTRA_COLUMNS = ["service_dual", "status", "gap", "method", "note"]
CLOSE_TO_LEVEL = 0.005  # a row's plan is "at its level" when it achieves at most half a point more
MEMO_SIZE = 4  # sweeps kept (a run asks for the curve of at most a few evaluation tables in a row)
_memo = LRU(MEMO_SIZE)


def clear_memo() -> None:
    """Forget every memoised sweep."""
    _memo.clear()


def _row(plan: Plan, cost_optimal: bool) -> dict:
    c = plan.choice
    row = {"target": np.nan if plan.target is None else plan.target, "achieved": plan.achieved,
           "cost_total": float(c["cost_total"].sum()),
           "cost_logistics": float((c["cost_total"] - c["cost_shortage"]).sum())}
    row.update({b: float(c[b].sum()) for b in COST_BUCKETS})
    row.update(implied_shortage_cost=np.nan if plan.implied_shortage_cost is None else plan.implied_shortage_cost,
               cost_optimal=cost_optimal,
               service_dual=np.nan if plan.service_dual is None else plan.service_dual,
               status=plan.status.value, gap=plan.gap, method=plan.method)
    return row


def _sweep(scenario: Scenario, evaluations: pd.DataFrame, levels, method: str, time_limit: float | None,
           mip_gap: float | None, finish: bool = True) -> tuple[list[Plan], list[tuple[float, float]]]:
    """The cost-optimal plan, then one plan per feasible level (ascending); and the infeasible levels
    as (level, best achievable). Memoised (see the module doc); the caller gets its own list and Plans.
    finish=False: the price-optimal plans of Selector.solve(..., finish=False) (memoised apart)."""
    levels = sorted(set(float(x) for x in (scenario.service.frontier if levels is None else levels)))
    options = hs.options_from(scenario, time_limit, mip_gap)
    try:
        key = (scenario_fingerprint(scenario), table_fingerprint(evaluations), tuple(levels), method, options,
               finish)
    except TypeError:  # a column pandas cannot hash: no memo
        key = None
    hit = _memo.get(key) if key is not None else None
    if hit is None:
        with without_gc_passes():  # the finishing MILPs' Pyomo objects would start pass after pass
            hit = _solve_sweep(scenario, evaluations, levels, method, options, finish)
        if key is not None and all(p.status == SolveStatus.optimal for p in hit[0]):
            _memo.put(key, hit)
    plans, infeasible = hit
    # Lazy copies (pandas copy-on-write): a caller that changes its plan never changes the memo's,
    # and the tables are not duplicated until one does.
    return [dataclasses.replace(p, choice=p.choice.copy(deep=False), timings=dict(p.timings), duals=dict(p.duals))
            for p in plans], list(infeasible)


def _solve_sweep(scenario: Scenario, evaluations: pd.DataFrame, levels: list[float], method: str,
                 options: hs.SolverOptions, finish: bool = True) -> tuple[list[Plan], list[tuple[float, float]]]:
    by_tier = scenario.service.frontier_tier is not None  # levels of one tier's service (docs/tiers.md)
    # Each plan's rows are taken from its selector's table only once both selectors are gone: a
    # selector's arrays and every level's chosen rows were the head's memory peak together.
    cheapest = Selector(scenario, evaluations, True, method, options, tier_target=by_tier)
    found = [(cheapest.table, cheapest.sku_classes, *cheapest.solve_rows(None, finish))]
    del cheapest
    release_free_heap()
    sweep = Selector(scenario, evaluations, False, method, options, tier_target=by_tier)
    infeasible = []
    for level in levels:  # ascending: each level starts from what the lower ones proved
        try:
            found.append((sweep.table, sweep.sku_classes, *sweep.solve_rows(level, finish)))
        except InfeasibleError as exc:
            if exc.rule != "service.target":
                raise  # floors or limits fail at every level: the frontier is empty
            infeasible.append((level, exc.best_achievable))
    del sweep
    release_free_heap()  # the selectors' arrays, before the levels' rows are taken
    plans = [with_choice(plan, table, rows, classes) for table, classes, plan, rows in found]
    # Price-optimal plans are not compared: one may be cheaper only by missing its level.
    return [plans[0], *(_monotone(plans[1:]) if finish else plans[1:])], infeasible


def _monotone(plans: list[Plan]) -> list[Plan]:
    """A plan found for a higher level also meets every lower one: when it is cheaper (the solves stop
    within the MIP gap, so a lower level's plan can cost a hair more), the lower level takes it, so
    logistics cost never rises as the target falls. The level's own target, duals and bound stay."""
    out: list[Plan] = []
    best: Plan | None = None
    for plan in sorted(plans, key=lambda p: p.target, reverse=True):
        if best is not None and best.objective < plan.objective:
            gap = max(0.0, (best.objective - plan.bound) / max(abs(best.objective), 1e-9)) if plan.bound is not None else plan.gap
            plan = dataclasses.replace(plan, choice=best.choice, objective=best.objective, achieved=best.achieved,
                                       gap=min(plan.gap, gap))
        else:
            best = plan
        out.append(plan)
    return out[::-1]


def frontier_plans(scenario: Scenario, evaluations: pd.DataFrame, levels=None, method: str = "auto",
                   time_limit: float | None = None, mip_gap: float | None = None, finish: bool = True) -> list[Plan]:
    """The plans behind the frontier rows: first the cost-optimal plan (target None), then the plan of
    least logistics cost per period for each level of `levels` (default scenario.service.frontier) that
    can be met, ascending. Their prices and choices seed the refinement around the frontier
    (tradeoff.search). finish=False: with the decomposition (above AUTO_MILP_MAX_CANDIDATES
    candidates, or method="decomposition"), each level's Lagrangian prices and the price-optimal
    choice at them, without the finishing MILPs (Selector.solve), which is all a refinement reads:
    such a level may miss its rules in a few SKUs, and its gap is NaN. A MILP-sized selection is
    solved whole either way."""
    return _sweep(scenario, evaluations, levels, method, time_limit, mip_gap, finish)[0]


def frontier(scenario: Scenario, evaluations: pd.DataFrame, levels=None, method: str = "auto",
             time_limit: float | None = None, mip_gap: float | None = None) -> pd.DataFrame:
    """One row per service level in `levels` (default scenario.service.frontier): the plan of least
    logistics cost per period meeting that aggregate target (and the floors and limits), with its
    achieved level, cost buckets per period, implied_shortage_cost (from the LP dual of the target row)
    and marginal_cost = extra logistics cost per extra point (0.01) of achieved service versus the row
    before. One more row, `cost_optimal` true and `target` empty, is the cost-optimal plan (minimum
    cost_total, the same as `select(..., target="cost_optimal")`). Rows are sorted by achieved level.
    Levels no plan can meet are left out; they are listed in `df.attrs["infeasible"]` as
    (level, best achievable); floors or limits that no level can meet raise InfeasibleError. Extra
    columns: service_dual, status, gap, method. The sweep prunes once for all levels (dominance in
    d*m and d*(m-1) covers every level), builds its models once (the level is a Pyomo Param) and
    solves the levels in ascending order, each from what the lower levels proved (multipliers, plans,
    bounds; see optimizer.select.Selector); it is memoised by the content of the scenario and the
    evaluations (see the module doc). A plan found for a higher level that is cheaper than a lower
    level's (solves stop within the MIP gap) is used for the lower level too, so cost_logistics never
    rises as the target falls."""
    plans, infeasible = _sweep(scenario, evaluations, levels, method, time_limit, mip_gap)
    rows = [dict(_row(plan, plan.target is None), _binding=_binding_rules(plan)) for plan in plans]
    df = pd.DataFrame(rows, columns=FRONTIER_COLUMNS + EXTRA_COLUMNS + ["_binding"])
    df = _marginal(df.sort_values(["achieved", "cost_logistics", "cost_optimal"], kind="stable"))
    df["cost_optimal"] = df["cost_optimal"].astype(bool)
    df["note"] = _notes(df)
    df = df.drop(columns="_binding")
    df.attrs["infeasible"] = infeasible
    return df


def _marginal(df: pd.DataFrame) -> pd.DataFrame:
    """marginal_cost: extra logistics cost per period per extra point of achieved service against the
    row before (rows sorted by achieved level)."""
    df = df.reset_index(drop=True)
    d_cost = df["cost_logistics"].diff()
    d_points = df["achieved"].diff() * 100.0
    df["marginal_cost"] = np.where(d_points > 1e-12, d_cost / d_points.where(d_points > 1e-12, 1.0), np.nan)
    return df


def with_plan(df: pd.DataFrame, plan: Plan, level: float | None, note: str) -> pd.DataFrame:
    """The curve `df` (frontier's rows) with the row at `level` (None: the cost-optimal row) replaced
    by `plan` (a plan selected at that level, equal to the row's within the MIP gap) and `note`, so
    that the plan is one of the curve's points exactly; marginal costs recomputed."""
    at = df["cost_optimal"].to_numpy(bool) if level is None else df["target"].to_numpy(float) == float(level)
    if not at.any():
        return df
    row = _row(plan, level is None)
    row["target"] = np.nan if level is None else float(level)
    df = df.copy()
    df["note"] = df["note"].astype(object)  # a note column without any note is float
    for column, value in row.items():
        if column in df.columns:
            df.loc[at, column] = value
    df.loc[at, "note"] = note
    return _marginal(df.sort_values(["achieved", "cost_logistics", "cost_optimal"], kind="stable"))


FLOOR_RULES = ("service.floors.", "customer_tiers.tiers[")  # service floors: rules that can hold service up


def _binding_rules(plan: Plan) -> tuple[str, ...]:
    """The service floors that hold a level's plan above the level: those with a non-zero LP dual
    while the target's own dual is 0 (the target is slack: relaxing a floor, not the target, is what
    would lower the cost). Empty otherwise, and for limits (they cannot push service up)."""
    duals = plan.duals or {}
    if abs(duals.get("service.target", 0.0)) > 1e-9:
        return ()
    return tuple(sorted(rule for rule, dual in duals.items() if rule.startswith(FLOOR_RULES) and abs(dual) > 1e-9))


def _notes(df: pd.DataFrame) -> list:
    """Why a level's plan achieves more than half a point above the level (empty otherwise): service
    floors hold it there (_binding_rules: named), or the cheapest plan the candidates give at or
    above the level already serves more, i.e. no candidate set nearer the level costs less."""
    out = []
    for target, achieved, binding in zip(df["target"].to_numpy(float), df["achieved"].to_numpy(float),
                                         df["_binding"]):
        if np.isfinite(target) and achieved > target + CLOSE_TO_LEVEL and binding:
            out.append(f"{', '.join(binding)} {'hold' if len(binding) > 1 else 'holds'} the cheapest plan at or "
                       f"above {100 * target:.4g} % at {100 * achieved:.2f} % (without "
                       f"{'them' if len(binding) > 1 else 'it'} a plan nearer the level would cost less)")
        elif np.isfinite(target) and achieved > target + CLOSE_TO_LEVEL:
            out.append(f"the cheapest plan at or above {100 * target:.4g} % already gives {100 * achieved:.2f} %: "
                       "no plan nearer the level costs less among the candidates")
        else:
            out.append(np.nan)  # no note: an empty cell, read back as missing
    return out
