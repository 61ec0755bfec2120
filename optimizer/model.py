"""The monolithic selection MILP in Pyomo (the reference model): one binary per SKU x candidate, exactly
one choice per SKU, the coupling rules as rows, minimise cost per period. Solved by HiGHS.

`style="linear"` builds every expression with Pyomo's LinearExpression (array-friendly, the default);
`style="naive"` builds one Pyomo expression per term with Python sums, as a first model would be written
(kept for benchmarks/optimizer_scale.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pe
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from optimizer import solver as hs
from optimizer.plan import SolveStatus
from optimizer.problem import Row


@dataclass
class Solution:
    """Chosen candidate index per SKU (into the candidate arrays), with the solver's outcome.
    duals: LP-relaxation dual per coupling row (>= 0, cost per unit of the row), or None."""

    choice: np.ndarray | None
    status: SolveStatus
    objective: float
    bound: float
    gap: float
    duals: np.ndarray | None = None
    timings: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def _lin(coefs: np.ndarray, xs: list, idx: np.ndarray, constant: float = 0.0) -> LinearExpression:
    return LinearExpression([float(constant)] + [MonomialTermExpression((float(c), xs[j])) for c, j in zip(coefs, idx)])


def build(cost: np.ndarray, group: np.ndarray, n_groups: int, rows: list[Row], style: str = "linear",
          constant: float = 0.0, binary: bool = True) -> pe.ConcreteModel:
    """The Pyomo model. Row k is `model.coupling[k]`; `model.x[j]` is candidate j's binary (or [0, 1]
    variable when binary=False: the LP relaxation)."""
    n = len(cost)
    m = pe.ConcreteModel()
    m.x = pe.Var(range(n), within=pe.Binary if binary else pe.UnitInterval)
    xs = list(m.x.values())
    order = np.argsort(group, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(group[order])) + 1, n]
    members = [order[starts[i]:starts[i + 1]] for i in range(len(starts) - 1)]
    if style == "naive":
        m.one = pe.Constraint(range(len(members)), rule=lambda _, i: sum(m.x[int(j)] for j in members[i]) == 1)
        m.coupling = pe.Constraint(range(len(rows)), rule=lambda _, k: sum(
            float(rows[k].coef[j]) * m.x[j] for j in range(n) if rows[k].coef[j] != 0) >= rows[k].rhs
            if np.any(rows[k].coef) else pe.Constraint.Skip)
        m.obj = pe.Objective(expr=constant + sum(float(cost[j]) * m.x[j] for j in range(n)))
        return m
    ones = np.ones(n)
    m.one = pe.Constraint(range(len(members)), rule=lambda _, i: _lin(ones[members[i]], xs, members[i]) == 1)

    def coupling(_, k):
        nz = np.flatnonzero(rows[k].coef)
        if len(nz) == 0:  # a row no free candidate touches (checked in solve_milp)
            return pe.Constraint.Skip
        return _lin(rows[k].coef[nz], xs, nz) >= rows[k].rhs

    m.coupling = pe.Constraint(range(len(rows)), rule=coupling)
    m.obj = pe.Objective(expr=_lin(cost, xs, np.arange(n), constant))
    return m


def read_choice(m: pe.ConcreteModel, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Index of the chosen candidate per group (the largest x of the group)."""
    x = np.array([pe.value(v, exception=False) or 0.0 for v in m.x.values()])
    order = np.lexsort((-x, group))  # by group, then largest x first
    first = np.r_[True, group[order][1:] != group[order][:-1]]
    best = np.full(n_groups, -1, dtype=np.int64)
    best[group[order][first]] = order[first]
    return best


def lp_duals(cost, group, n_groups, rows, options: hs.SolverOptions, constant: float = 0.0) -> np.ndarray | None:
    """Duals of the coupling rows in the LP relaxation (cost per unit of each row, >= 0)."""
    if not rows:
        return np.zeros(0)
    m = build(cost, group, n_groups, rows, binary=False, constant=constant)
    status, res = hs.run(hs.new_highs(), m, options, mip=False)
    if status != SolveStatus.optimal:
        return None
    duals = res.solution_loader.get_duals()
    return np.array([max(0.0, float(duals[m.coupling[k]])) if k in m.coupling else 0.0 for k in range(len(rows))])


def solve_milp(cost: np.ndarray, group: np.ndarray, n_groups: int, rows: list[Row],
               options: hs.SolverOptions, want_duals: bool = True, style: str = "linear",
               constant: float = 0.0) -> Solution:
    """Build and solve the monolithic MILP; with want_duals also the LP relaxation's row duals."""
    t0 = time.perf_counter()
    for r in rows:
        if not np.any(r.coef) and r.rhs > 1e-9 * max(1.0, abs(r.rhs)):
            return Solution(None, SolveStatus.infeasible, np.nan, np.nan, np.nan)
    m = build(cost, group, n_groups, rows, style=style, constant=constant)
    t1 = time.perf_counter()
    status, res = hs.run(hs.new_highs(), m, options, mip=True)
    t2 = time.perf_counter()
    timings = {"build": t1 - t0, "solve": t2 - t1}
    if status not in (SolveStatus.optimal, SolveStatus.time_limit):
        return Solution(None, status, np.nan, np.nan, np.nan, None, timings)
    res.solution_loader.load_vars()
    choice = read_choice(m, group, n_groups)
    obj = float(constant + cost[choice].sum())
    bound = res.objective_bound if res.objective_bound is not None else obj
    gap = _gap(obj, float(bound))
    duals = None
    if want_duals:
        duals = lp_duals(cost, group, n_groups, rows, options, constant)
        timings["duals"] = time.perf_counter() - t2
    return Solution(choice, status, obj, float(bound), gap, duals, timings)


def _gap(obj: float, bound: float) -> float:
    return max(0.0, (obj - bound) / max(abs(obj), 1e-9))


class ParametricMILP:
    """The monolithic MILP of one selection problem whose rows are affine in the target level t
    (ParamRows), built once and re-solved per level: t is a mutable Pyomo Param in the target row's
    coefficients. Two persistent HiGHS models, both built on first use: the MILP, and its LP
    relaxation (the rows' duals and a lower bound). A known plan that meets level t within the MIP
    gap of the bound ends the level without a MILP; otherwise the MILP starts from the best known plan."""

    def __init__(self, cost: np.ndarray, group: np.ndarray, n_groups: int, prow, options: hs.SolverOptions):
        self.cost, self.group, self.n_groups, self.prow, self.options = cost, group, n_groups, prow, options
        self._models: dict[bool, tuple] = {}  # binary -> (model, persistent solver)

    def _model(self, binary: bool, t: float):
        if binary not in self._models:
            m = _build_parametric(self.cost, self.group, self.prow, binary)
            m.t.set_value(t)
            self._models[binary] = (m, hs.persistent(m))
        else:
            m, opt = self._models[binary]
            m.t.set_value(t)
            opt.update_parameters()
        return self._models[binary]

    def solve(self, t: float | None, incumbent: tuple[np.ndarray, float] | None = None,
              bound_floor: float = -np.inf, want_duals: bool = True) -> Solution:
        """The plan for level t (None: no target row). `incumbent`: (candidate index per SKU, cost) of
        a plan known to meet the rows at t; `bound_floor`: a proven lower bound at t."""
        t0 = time.perf_counter()
        tt = 0.0 if t is None else float(t)
        K, b = self.prow.K, self.prow.b
        A = self.prow.A(tt)
        for k in range(K):
            if not np.any(A[k]) and b[k] > 1e-9 * max(1.0, abs(b[k])):
                return Solution(None, SolveStatus.infeasible, np.nan, np.nan, np.nan)
        timings = {"build": 0.0, "solve": 0.0}
        bound, duals = float(bound_floor), None
        if K and want_duals:
            tb = time.perf_counter()
            m, opt = self._model(False, tt)
            ts = time.perf_counter()
            status, res = hs.run(opt, m, self.options, mip=False)
            timings["build"] += ts - tb
            timings["duals"] = time.perf_counter() - ts
            if status == SolveStatus.infeasible:  # no plan, not even a fractional one
                return Solution(None, SolveStatus.infeasible, np.nan, np.nan, np.nan, None, timings)
            if status == SolveStatus.optimal:
                d = res.solution_loader.get_duals()
                duals = np.array([max(0.0, float(d[m.coupling[k]])) if k in m.coupling else 0.0 for k in range(K)])
                if res.incumbent_objective is not None:
                    bound = max(bound, float(res.incumbent_objective))
        if incumbent is not None:
            obj = float(incumbent[1])
            if obj - bound <= self.options.mip_gap * abs(obj):
                timings["total"] = time.perf_counter() - t0
                return Solution(np.asarray(incumbent[0]), SolveStatus.optimal, obj, bound, _gap(obj, min(bound, obj)),
                                duals, timings, {"reused": True})
        tb = time.perf_counter()
        m, opt = self._model(True, tt)
        if incumbent is not None:
            hs.mip_start(opt, [(m.x[int(j)], 1.0) for j in incumbent[0]])
        ts = time.perf_counter()
        status, res = hs.run(opt, m, self.options, mip=True)
        timings["build"] += ts - tb
        timings["solve"] = time.perf_counter() - ts
        if status not in (SolveStatus.optimal, SolveStatus.time_limit):
            return Solution(None, status, np.nan, np.nan, np.nan, None, timings)
        res.solution_loader.load_vars()
        choice = read_choice(m, self.group, self.n_groups)
        obj = float(self.cost[choice].sum())
        if res.objective_bound is not None:
            bound = max(bound, float(res.objective_bound))
        elif not np.isfinite(bound):
            bound = obj
        timings["total"] = time.perf_counter() - t0
        return Solution(choice, status, obj, bound, _gap(obj, min(bound, obj)), duals, timings)


def _build_parametric(cost: np.ndarray, group: np.ndarray, prow, binary: bool) -> pe.ConcreteModel:
    """As `build`, with the rows of `prow`: coefficient A0 + t * slope, t the mutable Param `model.t`."""
    n = len(cost)
    m = pe.ConcreteModel()
    m.t = pe.Param(mutable=True, initialize=0.0)
    m.x = pe.Var(range(n), within=pe.Binary if binary else pe.UnitInterval)
    xs = list(m.x.values())
    order = np.argsort(group, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(group[order])) + 1, n]
    members = [order[starts[i]:starts[i + 1]] for i in range(len(starts) - 1)]
    ones = np.ones(n)
    m.one = pe.Constraint(range(len(members)), rule=lambda _, i: _lin(ones[members[i]], xs, members[i]) == 1)

    def coupling(_, k):
        a0, s = prow.A0[k], prow.slope[k]
        nz = np.flatnonzero((a0 != 0) | (s != 0))
        if len(nz) == 0:  # a row no candidate touches (checked in ParametricMILP.solve)
            return pe.Constraint.Skip
        if not np.any(s[nz]):
            return _lin(a0[nz], xs, nz) >= float(prow.b[k])
        return LinearExpression([MonomialTermExpression(((float(a0[j]) + m.t * float(s[j])) if s[j] != 0 else float(a0[j]),
                                                         xs[j])) for j in nz]) >= float(prow.b[k])

    m.coupling = pe.Constraint(range(prow.K), rule=coupling)
    m.obj = pe.Objective(expr=_lin(cost, xs, np.arange(n)))
    return m
