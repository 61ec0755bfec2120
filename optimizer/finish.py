"""The finishing MILP of the decomposition, built once per selection problem and re-solved.

Each solve is a restricted selection: a subset `keep` of the candidates (positions in the pricing
order of optimizer.decompose.Pricing); a SKU with one kept candidate is fixed at it and enters as a
constant (objective offset, row right-hand sides), a SKU with several kept candidates is free. The
Pyomo model holds a pool of candidate variables that only grows: the candidates ever kept in a free
SKU. A solve sets bounds (a pooled candidate not kept now is bounded to 0; a pooled SKU fixed now
takes its slack z = 1 in its one-choice row), the mutable Params (target level t, the right-hand
sides, the constant) and, when the pool grew, adds the new variables and rows; then HiGHS re-solves
the model it already holds, optionally from a MIP start.
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pe
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from optimizer import solver as hs
from optimizer.model import Solution, _gap
from optimizer.plan import SolveStatus


class FinishModel:
    """Restricted selection MILPs over one candidate set, rows affine in t (see module doc).

    cost, gs (SKU of each position), A0 and slope (K x n, rows (A0 + t slope) x >= b) are in the
    pricing order; starts: first position of each SKU."""

    def __init__(self, cost: np.ndarray, gs: np.ndarray, starts: np.ndarray, A0: np.ndarray, slope: np.ndarray,
                 b: np.ndarray):
        # Each row in units of its largest coefficient: a service row reads in units of the aggregate
        # level, one SKU's share of which is about 1 / SKUs, so HiGHS's absolute feasibility tolerance
        # (1e-6) would let a plan miss the level by several SKUs' worth on a large catalogue.
        # The scale is applied where coefficients are read (_scaled), not kept as scaled copies of A0
        # and slope: the caller's arrays are shared, two fewer numbers per candidate and row at the head.
        largest = np.maximum(np.abs(A0).max(axis=1, initial=0.0), np.abs(slope).max(axis=1, initial=0.0))
        self.row_scale = 1.0 / np.where(largest > 0, largest, 1.0)  # a row without coefficients stays as it is
        self.cost, self.gs, self.starts, self.A0, self.slope = cost, gs, starts, A0, slope
        self.b = b * self.row_scale
        self.K = len(b)
        self.m: pe.ConcreteModel | None = None
        self.opt = None
        self.var_of: dict[int, object] = {}  # position -> its binary
        self.pool_of: dict[int, list[int]] = {}  # SKU -> pooled positions
        self.z_of: dict[int, object] = {}  # SKU -> slack of its one-choice row (1: the SKU is fixed now)
        self.ub: dict[int, float] = {}  # current upper bound of each pooled binary
        self.z_fixed: dict[int, bool] = {}
        self.generation = 0
        self.solves = 0

    def _scaled(self, coefs: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """`coefs` (A0 or slope, K x n) at `positions` (K x len), each row in units of its largest
        coefficient: the same numbers a scaled copy of `coefs` would hold."""
        return np.take(coefs, positions, axis=1) * self.row_scale[:, None]

    # ---- the model
    def _new_model(self) -> None:
        m = pe.ConcreteModel()
        m.t = pe.Param(mutable=True, initialize=0.0)
        m.rhs = pe.Param(range(self.K), mutable=True, initialize=0.0)
        m.const = pe.Param(mutable=True, initialize=0.0)
        m.x = pe.VarList(domain=pe.Binary)
        m.z = pe.VarList(bounds=(0.0, 1.0))
        m.part = pe.VarList()  # per chunk of the pool: its cost, and its activity in each row
        m.one = pe.Constraint(pe.Any)
        m.define = pe.ConstraintList()  # part = its terms, written once per chunk
        m.coupling = pe.Constraint(pe.Any)
        self.parts: list[tuple[object, list]] = []  # per chunk: (cost part, [(row, part at t=0, part per unit t)])
        self.m = m

    def _grow(self, free_pos: np.ndarray) -> bool:
        """Add the free positions not pooled yet as a new chunk. A chunk's cost and row activities are
        variables defined once by their own rows; the coupling rows and the objective sum the chunks,
        so growing rewrites rows of (chunks) terms, not of (pool) terms. True when the pool grew."""
        new = [int(j) for j in free_pos if int(j) not in self.var_of]
        if not new:
            return False
        m, first = self.m, self.opt is None
        self.generation += 1
        gen = self.generation
        touched: dict[int, None] = {}
        xs = []
        for j in new:
            v = m.x.add()
            xs.append(v)
            self.var_of[j] = v
            self.ub[j] = 1.0
            g = int(self.gs[j])
            self.pool_of.setdefault(g, []).append(j)
            touched[g] = None
        new_rows, old_rows = [], []
        for g in touched:
            if g not in self.z_of:
                z = self.z_of[g] = m.z.add()
                z.setlb(0.0)
                z.setub(0.0)
                self.z_fixed[g] = False
            terms = [MonomialTermExpression((1.0, self.var_of[j])) for j in self.pool_of[g]]
            terms.append(MonomialTermExpression((1.0, self.z_of[g])))
            if g in m.one:
                old_rows.append(m.one[g])
            new_rows.append((g, LinearExpression(terms) == 1.0))
        idx = np.array(new, dtype=np.int64)

        def part(coefs: np.ndarray):
            """A variable equal to coefs @ x over the new chunk (None when all coefficients are 0)."""
            nz = np.flatnonzero(coefs)
            if not len(nz):
                return None
            y = m.part.add()
            con = m.define.add(LinearExpression([MonomialTermExpression((-1.0, y))] + [
                MonomialTermExpression((float(coefs[i]), xs[i])) for i in nz]) == 0.0)
            new_rows.append((None, con))
            return y

        cost_part = part(self.cost[idx])
        a0, slope = self._scaled(self.A0, idx), self._scaled(self.slope, idx)
        row_parts = [(k, part(a0[k]), part(slope[k])) for k in range(self.K)]
        self.parts.append((cost_part, row_parts))
        if not first:
            self.opt.remove_constraints(old_rows + list(m.coupling.values()))
        for g, _ in [r for r in new_rows if r[0] is not None]:
            if g in m.one:
                del m.one[g]
        rows = []
        for g, expr in new_rows:
            if g is None:
                rows.append(expr)
            else:
                m.one[g] = expr
                rows.append(m.one[g])
        for key in list(m.coupling.keys()):
            del m.coupling[key]
        for k in range(self.K):
            terms = []
            for _, parts in self.parts:
                _, y0, ys = parts[k]
                if y0 is not None:
                    terms.append(MonomialTermExpression((1.0, y0)))
                if ys is not None:
                    terms.append(MonomialTermExpression((m.t, ys)))
            if terms:
                m.coupling[(k, gen)] = LinearExpression(terms) >= m.rhs[k]
                rows.append(m.coupling[(k, gen)])
        if hasattr(m, "obj"):
            m.del_component(m.obj)
        m.obj = pe.Objective(expr=m.const + LinearExpression(
            [MonomialTermExpression((1.0, c)) for c, _ in self.parts if c is not None]))
        if first:
            self.opt = hs.persistent(m)
        else:
            self.opt.add_constraints(rows)
            self.opt.set_objective(m.obj)
        return True

    # ---- one solve
    def solve(self, keep: np.ndarray, t: float | None, options: hs.SolverOptions, time_left: float,
              start: np.ndarray | None = None) -> Solution:
        """The best plan within `keep` (within the MIP gap). Returns choice as positions per SKU;
        `start`: a plan (position per SKU) within `keep` to start branch and bound from."""
        t0 = time.perf_counter()
        kept_per_group = np.add.reduceat(keep.astype(np.int64), self.starts)
        n_groups = len(self.starts)
        free_g = kept_per_group >= 2
        fixed = keep & ~free_g[self.gs]
        free_pos = np.flatnonzero(keep & free_g[self.gs])
        fixed_pos = np.flatnonzero(fixed)
        tt = 0.0 if t is None else float(t)
        A_fixed = self._scaled(self.A0, fixed_pos).sum(axis=1) + tt * self._scaled(self.slope, fixed_pos).sum(axis=1)
        constant = float(self.cost[fixed_pos].sum())
        rhs = self.b - A_fixed
        choice = np.full(n_groups, -1, dtype=np.int64)
        choice[self.gs[fixed_pos]] = fixed_pos
        if len(free_pos) == 0:
            if np.any(A_fixed < self.b - 1e-9 * np.maximum(1.0, np.abs(self.b))):
                return Solution(None, SolveStatus.infeasible, np.nan, np.nan, np.nan)
            return Solution(choice, SolveStatus.optimal, constant, constant, 0.0, info={"undecided": 0})
        a0_free, slope_free = self._scaled(self.A0, free_pos), self._scaled(self.slope, free_pos)
        for k in range(self.K):  # a row no free candidate touches
            if not (np.any(a0_free[k]) or (tt and np.any(slope_free[k]))) \
                    and rhs[k] > 1e-9 * max(1.0, abs(self.b[k])):
                return Solution(None, SolveStatus.infeasible, np.nan, np.nan, np.nan)
        if self.m is None:
            self._new_model()
        with hs.quiet():
            grew = self._set(free_pos, t, tt, rhs, constant, keep, start, free_g)
        m, opt = self.m, self.opt
        t1 = time.perf_counter()
        opts = hs.SolverOptions(time_limit=max(time_left, 1.0), mip_gap=options.mip_gap, tee=options.tee)
        status, res = hs.run(opt, m, opts, mip=True)
        self.solves += 1
        timings = {"build": t1 - t0, "solve": time.perf_counter() - t1}
        if status not in (SolveStatus.optimal, SolveStatus.time_limit):
            return Solution(None, status, np.nan, np.nan, np.nan, None, timings)
        free_vars = [self.var_of[int(j)] for j in free_pos]
        values = res.solution_loader.get_vars(free_vars)
        x = np.array([values[v] or 0.0 for v in free_vars])
        g = self.gs[free_pos]
        order = np.lexsort((-x, g))
        first = np.r_[True, g[order][1:] != g[order][:-1]]
        choice[g[order][first]] = free_pos[order][first]
        obj = float(self.cost[choice].sum())
        bound = res.objective_bound if res.objective_bound is not None else obj
        gap = _gap(obj, float(bound))
        return Solution(choice, status, obj, float(bound), gap, None, timings,
                        info={"undecided": int(free_g.sum()), "grew": grew})

    def _set(self, free_pos, t, tt, rhs, constant, keep, start, free_g) -> bool:
        """Pool, bounds, Params and MIP start for the next solve. True when the pool grew."""
        grew = self._grow(free_pos)
        m, opt = self.m, self.opt
        # bounds: pooled binaries kept now are free, the others 0; a pooled SKU fixed now fills its
        # one-choice row with its slack.
        free_set = set(free_pos.tolist())
        changed = []
        for j, v in self.var_of.items():
            ub = 1.0 if j in free_set else 0.0
            if self.ub[j] != ub:
                self.ub[j] = ub
                v.setub(ub)
                changed.append(v)
        free_groups = set(self.gs[free_pos].tolist())
        for g, z in self.z_of.items():
            want_fixed = g not in free_groups
            if self.z_fixed[g] != want_fixed:
                self.z_fixed[g] = want_fixed
                value = 1.0 if want_fixed else 0.0
                z.setlb(value)  # bounds, not fix(): Pyomo would fold a fixed variable into the rows
                z.setub(value)
                changed.append(z)
        if changed:
            opt.update_variables(changed)
        m.t.set_value(tt)
        for k in range(self.K):
            m.rhs[k].set_value(float(rhs[k]))
        m.const.set_value(constant)
        opt.update_parameters()
        if start is not None and np.all(keep[start]):
            values = [(self.var_of[int(j)], 1.0) for j in start[free_g[self.gs[start]]]]
            values += [(z, 1.0) for g, z in self.z_of.items() if g not in free_groups]
            hs.mip_start(opt, values)
        return grew

