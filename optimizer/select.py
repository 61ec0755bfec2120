"""Choose one candidate per SKU: cost-optimal (minimise cost_total) or target-driven (minimise
logistics cost = cost_total - cost_shortage subject to the aggregate service target), always within the
class floors, the SKU floor and the limits. Infeasible rules raise InfeasibleError with the best level
the candidates allow.

The rules as the model states them (x_j = 1 when candidate j is chosen, d_j demand per period, m_j the
service metric):
- aggregate target: sum_j d_j m_j x_j >= target * sum_j d_j x_j (demand-weighted; for fill_rate this is
  exactly total filled / total demand);
- class floor: the same over the SKUs of one class (classes from scenarios.abc.sku_classes);
- SKU floor: candidates below it are dropped before the model;
- budget.inventory_value: sum_j inventory_value_j x_j <= budget (average inventory value);
- costs.warehousing.capacity_units: sum_j avg_on_hand_j x_j <= capacity, i.e. AVERAGE occupancy (the
  peak on-hand of a period can exceed it);
- transport[k].capacity_per_period: sum of vehicles_per_period of the candidates using mode k <= cap.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from optimizer import solver as hs
from optimizer.decompose import Decomposition, solve_decomposition
from optimizer.errors import InfeasibleError, SolverTimeLimitError
from optimizer.model import ParametricMILP, Solution, solve_milp
from optimizer.plan import Plan, SolveStatus
from optimizer.prices import Prices
from optimizer.problem import ParamRows, Prepared, Row, in_sku_order, prepare, tier_floors
from scenarios.gc_pause import without_gc_passes
from scenarios.heap import release_free_heap
from scenarios.schema import Scenario

COST_OPTIMAL = "cost_optimal"  # pass as `target` to ignore scenario.service.target
AUTO_MILP_MAX_CANDIDATES = 3000  # above this (after pruning) "auto" uses the decomposition


class Selector:
    """A prepared selection (pruned candidates, objective, rows with the target level as a parameter)
    that is solved for one or several targets. The models are built once, on the first solve, and
    re-solved for each target (optimizer.decompose.Decomposition or optimizer.model.ParametricMILP);
    what one target's solve learns serves the next: the multipliers (the decomposition's price path),
    the plans found, and the proven lower bounds (the optimum never falls as the target rises, so a
    bound proven at a level holds at every higher level). A plan found earlier that meets the target
    and is within the MIP gap of the bound is the answer without a MILP."""

    def __init__(self, scenario: Scenario, evaluations: pd.DataFrame, cost_optimal: bool, method: str = "auto",
                 options: hs.SolverOptions | None = None, tier_target: bool = False):
        t0 = time.perf_counter()
        self.scenario = scenario
        self.objective = "total" if cost_optimal else "logistics"
        prep = prepare(scenario, evaluations, self.objective, with_service=not cost_optimal, tier_target=tier_target)
        # prep.rows is the caller's table (a copy-on-write view; prep.src: the rows that survived
        # pruning), not a copy of the pruned rows: the run keeps its efficient set alive anyway, and
        # a copy was a second one at the head.
        self.prep: Prepared = prep
        self.options = options or hs.options_from(scenario)
        if method == "auto":
            method = "decomposition" if len(self.prep.cost) > AUTO_MILP_MAX_CANDIDATES else "milp"
        if method not in ("milp", "decomposition"):
            raise ValueError(f"method {method!r} is not one of auto, milp, decomposition")
        self.method = method
        if method == "decomposition":  # its pricing reads candidates in SKU order: given so, no copies
            self.prep = prep = prep.by_sku()
        self.prow: ParamRows = prep.parametric_rows(with_target=not cost_optimal)
        self._engine = None
        self._found: list[tuple[np.ndarray, float]] = []  # plans found: (candidate per SKU, objective)
        self._bounds: list[tuple[float, float]] = []  # (level, proven lower bound at that level)
        self._infeasible: InfeasibleError | None = None  # the target rule failed at this level (and above)
        self._infeasible_level = np.inf
        self.prune_seconds = time.perf_counter() - t0

    # ---- the engine (built once) and what earlier solves proved
    def engine(self):
        if self._engine is None:
            p = self.prep
            if self.method == "milp":
                self._engine = ParametricMILP(p.cost, p.group, p.n_groups, self.prow, self.options)
            else:
                self._engine = Decomposition(p.cost, p.group, p.n_groups, self.prow, self.options)
        return self._engine

    def _known(self, t: float | None) -> tuple[tuple[np.ndarray, float] | None, float]:
        """The cheapest plan found so far that meets the rows at t, and the best proven bound at t."""
        tt = 0.0 if t is None else t
        A = self.prow.A(tt)
        b = self.prow.b
        # A plan found here met the rules that do not depend on the level (within the solver's
        # feasibility tolerance, as any plan it returns); the target row, which does, is checked.
        varies = np.any(self.prow.slope != 0, axis=1)
        A, b = A[varies], b[varies]
        best = None
        tolerance = 1e-9 * np.maximum(1.0, np.abs(b))
        for choice, obj in self._found:
            if (best is None or obj < best[1]) and np.all(np.take(A, choice, axis=1).sum(axis=1) >= b - tolerance):
                best = (choice, obj)
        floor = max([bd for lv, bd in self._bounds if lv <= tt + 1e-12], default=-np.inf)
        return best, floor

    # ---- one solve
    def _solve(self, cost: np.ndarray, rows: list[Row], want_duals: bool = True) -> Solution:
        """A one-off solve with another objective or other rows (the diagnosis of infeasible rules)."""
        p = self.prep
        if self.method == "milp":
            return solve_milp(cost, p.group, p.n_groups, rows, self.options, want_duals=want_duals)
        return solve_decomposition(cost, p.group, p.n_groups, rows, self.options)

    def solve(self, target: float | None, finish: bool = True) -> Plan:
        """The plan for aggregate service `target` (None: no target). Raises InfeasibleError.

        finish=False (the decomposition only; a MILP is always solved whole): the multipliers of the
        Lagrangian master and the price-optimal choice at them, without the finishing MILP
        (optimizer.decompose.Decomposition.solve): the prices a refinement needs, not a plan to
        report (it may miss the rules in a few SKUs). Such a plan is not kept for later solves."""
        plan, rows = self.solve_rows(target, finish)
        return with_choice(plan, self.table, rows, self.sku_classes)

    @property
    def table(self) -> pd.DataFrame:
        """The evaluations as the selection reads them (rows of unknown SKUs and, with a SKU floor,
        rows below it left out): what solve_rows' positions index."""
        return self.prep.rows

    @property
    def sku_classes(self) -> np.ndarray:
        """Each SKU's class, in SKU order (object): a plan's `class` column."""
        return self.prep.sku_classes

    def solve_rows(self, target: float | None, finish: bool = True) -> tuple[Plan, np.ndarray]:
        """As solve, but the plan's `choice` has no rows (its columns kept) and the chosen rows come
        as their positions in `self.table` (int64, one per SKU, in SKU order): a sweep takes the
        rows of all its levels once its models are gone (with_choice)."""
        t0 = time.perf_counter()
        p = self.prep
        if (target is None) != (not self.prow.has_target):  # not this Selector's kind of rows
            rows = p.coupling_rows(target)
            _check_rows_alone(p, rows)
            sol = self._solve(p.cost, rows)
        else:
            t = None if target is None else float(target)
            if t is not None and t >= self._infeasible_level - 1e-15:
                exc = self._infeasible  # a lower level already failed: the best achievable is the same
                raise InfeasibleError(exc.rule, exc.best_achievable, exc.message)
            rows = self.prow.rows(t)
            _check_rows_alone(p, rows)
            incumbent, floor = self._known(t)
            if finish or self.method == "milp":
                sol = self.engine().solve(t, incumbent=incumbent, bound_floor=floor)
            else:
                sol = self.engine().solve(t, incumbent=incumbent, bound_floor=floor, finish=False)
        if sol.status == SolveStatus.infeasible:
            exc = self._diagnose(rows)
            if target is not None and exc.rule == "service.target" and self.prow.has_target:
                self._infeasible, self._infeasible_level = exc, min(self._infeasible_level, float(target))
            raise exc
        if sol.status == SolveStatus.time_limit_no_plan:
            what = (f"the selection ({p.n_groups} SKUs, {len(p.cost)} candidates after pruning, "
                    f"{'target ' + format(target, 'g') if target is not None else 'cost-optimal'})")
            raise SolverTimeLimitError(self.options.time_limit, what, file=f"scenario {self.scenario.name!r}")
        if sol.choice is None:
            raise RuntimeError(f"the solver ended without a plan ({sol.status.value})")
        if self.prow.has_target == (target is not None) and sol.info.get("finished", True):
            self._found.append((np.asarray(sol.choice), float(sol.objective)))
            if np.isfinite(sol.bound):
                self._bounds.append((0.0 if target is None else float(target), float(sol.bound)))
        chosen = p.src[sol.choice]
        d, m = p.td[sol.choice], p.tm[sol.choice]
        achieved = float((d * m).sum() / d.sum()) if d.sum() > 0 else 1.0
        service_dual = implied = None
        if target is not None and sol.duals is not None:
            service_dual = float(sol.duals[0])
            implied = service_dual / p.tD
        timings = {"prune": self.prune_seconds, "build": _sum(sol.timings, "build", "finish_build", "master"),
                   "solve": _sum(sol.timings, "solve", "finish_solve", "pricing", "duals")}
        timings["total"] = time.perf_counter() - t0 + self.prune_seconds
        no_rows = _with_classes(p.rows.iloc[:0], p.sku_classes[:0])  # the columns of a choice
        return Plan(choice=no_rows, status=sol.status, gap=float(sol.gap), objective=float(sol.objective),
                    target=target, achieved=achieved, service_dual=service_dual, implied_shortage_cost=implied,
                    timings=timings, method=self.method, metric=self.scenario.service.metric,
                    bound=float(sol.bound), candidates_used=len(p.cost),
                    duals={} if sol.duals is None else {r.name: float(v) for r, v in zip(rows, sol.duals)},
                    prices=self._prices(target, {} if sol.duals is None else
                                        {r.name: float(v) for r, v in zip(rows, sol.duals)})), chosen

    def _prices(self, target: float | None, duals: dict[str, float]) -> Prices:
        p = self.prep
        return Prices.from_duals(self.objective, self.scenario.service.metric, duals, target,
                                 self.scenario.service.floors, p.demand_total, p.extra.get("class_demand", {}),
                                 tier_scenario=self.scenario, tier_demand=p.extra.get("tier_demand", {}),
                                 target_columns=p.extra.get("target_columns"), target_demand=p.tD)

    # ---- infeasibility: which rule, and the best level the candidates allow
    def _diagnose(self, rows: list[Row]) -> InfeasibleError:
        limits = [r for r in rows if r.kind == "limit"]
        services = [r for r in rows if r.kind == "service"]
        floors = [r for r in services if r.name != "service.target"]
        target = [r for r in services if r.name == "service.target"]
        ordered = limits + floors + target
        for i, row in enumerate(ordered):
            before = ordered[:i]
            # The whole set is known infeasible; a prefix is tested with the real costs (a zero
            # objective would make every candidate tie and the finishing MILP large).
            last = i == len(ordered) - 1
            if not last and self._solve(self.prep.cost, before + [row], want_duals=False).status != SolveStatus.infeasible:
                continue
            if row.kind == "limit":
                best = self._solve(-row.coef, before, want_duals=False)  # coef is -use: minimise use
                use = float(-row.coef[best.choice].sum()) if best.choice is not None else np.nan
                return InfeasibleError(row.name, use, f"{row.name} {-row.rhs:g} cannot be met together with "
                                       f"the rules before it: the smallest achievable is {use:.6g}")
            level = self._best_level(row, before)
            return InfeasibleError(row.name, level, f"{row.name} cannot be met: the best achievable "
                                   f"{self.scenario.service.metric} is {level:.6g} (within the floors and limits)")
        return InfeasibleError("service", np.nan, "the service rules and limits cannot be met together")

    def _best_level(self, row: Row, others: list[Row]) -> float:
        """Highest demand-weighted level of the row's SKUs (all SKUs for the target) under `others`:
        Dinkelbach's method on the ratio sum d m x / sum d x, each step a selection solve."""
        p = self.prep
        mask = row.coef != 0 if row.name != "service.target" else np.ones(len(p.cost), dtype=bool)
        d, m = _row_columns(p, row)
        dm, dd = np.where(mask, d * m, 0.0), np.where(mask, d, 0.0)
        # Subtracting each SKU's mean demand x level is a constant per SKU (the choice is unchanged) and
        # keeps the objective near -sum d*m instead of near 0, where a relative MIP gap means nothing.
        d_mean = np.bincount(p.group, weights=dd, minlength=p.n_groups) / np.maximum(
            np.bincount(p.group, minlength=p.n_groups), 1)
        saved = self.options
        self.options = hs.SolverOptions(saved.time_limit, min(saved.mip_gap, 1e-6), saved.tee)
        try:
            return self._dinkelbach(dm, dd, d_mean[p.group], others)
        finally:
            self.options = saved

    def _dinkelbach(self, dm, dd, d_mean, others: list[Row]) -> float:
        level = 0.0
        for _ in range(50):
            sol = self._solve(-dm + level * (dd - d_mean), others, want_duals=False)
            if sol.choice is None:
                return np.nan
            new = float(dm[sol.choice].sum() / max(dd[sol.choice].sum(), 1e-300))
            if new <= level + 1e-12:
                break
            level = new
        return level


def with_choice(plan: Plan, table: pd.DataFrame, rows: np.ndarray, sku_classes: np.ndarray) -> Plan:
    """`plan` with its choice: the rows of `table` at positions `rows` (Selector.solve_rows: one per
    SKU, in SKU order) and each SKU's class (`sku_classes`, Selector.sku_classes) as `class`."""
    return dataclasses.replace(plan, choice=_with_classes(table.iloc[rows].reset_index(drop=True), sku_classes))


def _with_classes(rows: pd.DataFrame, classes: np.ndarray) -> pd.DataFrame:
    rows["class"] = classes  # a `class` the table had is replaced where it stands
    return rows


def _check_rows_alone(p: Prepared, rows: list[Row]) -> None:
    """A rule that fails even when every SKU takes its best candidate for that rule alone."""
    # Candidates in SKU order (Prepared.by_sku) are read as they are: no sorted copies per solve.
    order = None if in_sku_order(p.group) else np.argsort(p.group, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(p.group if order is None else p.group[order])) + 1]
    for r in rows:
        best = float(np.maximum.reduceat(r.coef if order is None else r.coef[order], starts).sum())
        if best >= r.rhs - 1e-9 * max(1.0, abs(r.rhs)):
            continue
        if order is None:
            order = np.arange(len(p.group))
        if r.kind == "limit":
            use = -best
            raise InfeasibleError(r.name, use, f"{r.name} {-r.rhs:g} cannot be met: even the leanest candidate "
                                  f"of every SKU uses {use:.6g}")
        mask = r.coef != 0 if r.name != "service.target" else np.ones(len(p.cost), dtype=bool)
        # The best level alone: per SKU the candidate of highest metric (Dinkelbach with no coupling).
        d, m = _row_columns(p, r)
        dm, dd = np.where(mask, d * m, 0.0), np.where(mask, d, 0.0)
        level = 0.0
        for _ in range(50):
            score = (dm - level * dd)[order]
            pick = order[np.r_[[starts[i] + np.argmax(score[starts[i]:e]) for i, e in enumerate(np.r_[starts[1:], len(order)])]]]
            new = float(dm[pick].sum() / max(dd[pick].sum(), 1e-300))
            if new <= level + 1e-12:
                break
            level = new
        metric = p.scenario.service.metric
        raise InfeasibleError(r.name, level, f"{r.name} cannot be met: the best achievable {metric} is {level:.6g}")


def _row_columns(p: Prepared, row: Row) -> tuple[np.ndarray, np.ndarray]:
    """(demand, metric) per candidate of a service row: the target's (the aggregate or a tier's), a
    tier floor's tier columns, or the aggregate's for a class floor."""
    if row.name == "service.target":
        return p.td, p.tm
    for rule, _, d_col, m_col in tier_floors(p.scenario):
        if rule == row.name:
            return p.rows[d_col].to_numpy(float)[p.src], p.rows[m_col].to_numpy(float)[p.src]
    return p.d, p.m


def _sum(d: dict, *keys: str) -> float:
    return float(sum(d.get(k, 0.0) for k in keys))


def select(scenario: Scenario, evaluations: pd.DataFrame, target: float | str | None = None, method: str = "auto",
           time_limit: float | None = None, mip_gap: float | None = None, tee: bool = False) -> Plan:
    """Choose one evaluated candidate per SKU. `target` None means scenario.service.target (itself None
    -> cost-optimal: minimise cost_total per period); a number sets the aggregate demand-weighted
    target of scenario.service.metric (minimise logistics cost per period); "cost_optimal" ignores the
    scenario's target. Floors, SKU floor and limits always apply. `method`: "milp" (monolithic Pyomo
    MILP), "decomposition" (Lagrangian master + finishing MILP), "auto" (decomposition above
    AUTO_MILP_MAX_CANDIDATES candidates after pruning). time_limit/mip_gap default to scenario.solver.
    Raises InfeasibleError (rule, best achievable level), or SolverTimeLimitError (a ScenarioError:
    exit 2) when the time limit strikes before the solver has any plan."""
    if target is None:
        target = scenario.service.target
    elif target == COST_OPTIMAL:
        target = None
    options = hs.options_from(scenario, time_limit, mip_gap, tee)
    with without_gc_passes():  # as for the frontier's sweep (optimizer.frontier)
        sel = Selector(scenario, evaluations, cost_optimal=target is None, method=method, options=options)
        plan = sel.solve(None if target is None else float(target))
    del sel
    release_free_heap()  # the selection's arrays: what comes next at the head need not find them resident
    return plan
