"""The fast structured solve: one choice per SKU plus a few coupling rows.

1. Lagrangian master (Pyomo LP over the multipliers, Kelley cutting planes): each cut is a whole plan
   priced at the current multipliers; the pricing (each SKU's cheapest candidate at reduced cost
   cost - lambda . coef) is vectorised in numpy. At convergence the master's value is the LP
   relaxation's optimum and the multipliers are its duals; only SKUs whose plans disagree (at most as
   many as coupling rows, up to ties) are undecided.
2. Finishing MILP (Pyomo, HiGHS) over the undecided SKUs, the others fixed at their cheapest reduced
   cost. Exactness by reduced-cost fixing: for any feasible plan, cost >= LB + sum of its candidates'
   reduced-cost slacks (LB the Lagrangian bound), so once a plan of cost UB is known only candidates
   with slack <= UB - LB can be in a better plan; the finishing MILP is re-run over all of them,
   which proves the result optimal for the full problem (within the MIP gap).
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pe

from optimizer import solver as hs
from optimizer.model import Solution, _gap, solve_milp
from optimizer.plan import SolveStatus
from optimizer.problem import Row


class Pricing:
    """Per-SKU pricing in numpy: candidates sorted by SKU once, then argmin per SKU of reduced cost."""

    def __init__(self, cost: np.ndarray, group: np.ndarray, n_groups: int, A: np.ndarray):
        self.order = np.argsort(group, kind="stable")
        g = group[self.order]
        self.starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
        self.gs = g
        self.cost = cost[self.order]
        self.A = A[:, self.order]
        self.pos = np.arange(len(cost))
        self.n = len(cost)

    def reduced(self, lam: np.ndarray) -> np.ndarray:
        """Reduced cost per (sorted) candidate: cost - lam . coef."""
        return self.cost - lam @ self.A if len(lam) else self.cost.copy()

    def argmin(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sorted position of each SKU's cheapest candidate, first in ties; the minima)."""
        mins = np.minimum.reduceat(r, self.starts)
        cand = np.where(r <= mins[self.gs], self.pos, self.n)
        return np.minimum.reduceat(cand, self.starts), mins


def solve_decomposition(cost: np.ndarray, group: np.ndarray, n_groups: int, rows: list[Row],
                        options: hs.SolverOptions, warm_lambda: np.ndarray | None = None,
                        max_iter: int = 300, tol: float | None = None) -> Solution:
    """Solve the selection problem by Lagrangian master + finishing MILP (see module doc). Returns the
    chosen candidate index per SKU, the status, objective, bound, gap and the rows' LP duals."""
    t0 = time.perf_counter()
    if tol is None:  # the Lagrangian bound need only be tighter than the MIP gap it certifies
        tol = max(1e-10, 0.01 * options.mip_gap)
    K = len(rows)
    A = np.array([r.coef for r in rows]).reshape(K, len(cost))
    b = np.array([r.rhs for r in rows], dtype=float)
    pr = Pricing(cost, group, n_groups, A)
    scale = float(np.abs(cost).sum()) + 1.0
    # A multiplier beyond M_k would value one unit of row k at a million times the whole cost; above
    # it the master prefers violating the row (then the rules cannot be met, see `violation`).
    row_scale = np.array([max(np.abs(A[k]).max(), 1e-12) for k in range(K)])
    M = 1e6 * scale / row_scale

    lam = np.zeros(K) if warm_lambda is None else np.clip(np.asarray(warm_lambda, float), 0, M)
    timings = {"pricing": 0.0, "master": 0.0}
    plans: list[np.ndarray] = []
    cols: list[tuple[float, np.ndarray]] = []
    best_L, best_lam, best_r = -np.inf, lam.copy(), None

    def price(lam):
        tp = time.perf_counter()
        r = pr.reduced(lam)
        sel, mins = pr.argmin(r)
        C = float(pr.cost[sel].sum())
        Acol = pr.A[:, sel].sum(axis=1)
        L = float(mins.sum() + lam @ b)
        timings["pricing"] += time.perf_counter() - tp
        return r, sel, C, Acol, L

    r, sel, C, Acol, L = price(lam)
    best_L, best_lam, best_r = L, lam.copy(), r
    plans.append(sel)
    cols.append((C, Acol))
    mu = np.array([1.0])
    if K and (warm_lambda is not None or np.any(Acol < b - 1e-12)):
        tm = time.perf_counter()
        m = pe.ConcreteModel()
        m.lam = pe.Var(range(K), bounds=lambda _, k: (0.0, float(M[k])))
        m.theta = pe.Var()
        m.cuts = pe.ConstraintList()
        m.obj = pe.Objective(expr=m.theta, sense=pe.maximize)
        opt = hs.new_highs()
        # Only cuts are ever added: skip the persistent interface's scans for other model changes.
        au = opt.config.auto_updates
        for flag in ("check_for_new_or_removed_vars", "check_for_new_or_removed_params", "check_for_new_objective",
                     "update_constraints", "update_vars", "update_parameters", "update_named_expressions",
                     "update_objective"):
            setattr(au, flag, False)
        lp_opts = hs.SolverOptions(time_limit=options.time_limit, mip_gap=0.0, tee=False)

        def add_cut(C, Acol):
            m.cuts.add(m.theta - sum(float(b[k] - Acol[k]) * m.lam[k] for k in range(K)) <= C)

        add_cut(C, Acol)
        timings["master"] += time.perf_counter() - tm
        for _ in range(max_iter):
            tm = time.perf_counter()
            status, res = hs.run(opt, m, lp_opts, mip=False)
            if status in (SolveStatus.time_limit, SolveStatus.time_limit_no_plan):
                # Out of time inside the Lagrangian phase: no plan yet (the finishing MILP never ran).
                timings["lagrangian"] = time.perf_counter() - t0
                return Solution(None, SolveStatus.time_limit_no_plan, np.nan, best_L, np.nan, best_lam, timings)
            if status != SolveStatus.optimal:
                raise RuntimeError(f"Lagrangian master LP ended {res.termination_condition}")
            res.solution_loader.load_vars()
            ub = float(pe.value(m.theta))
            lam = np.array([max(0.0, pe.value(m.lam[k])) for k in range(K)])
            timings["master"] += time.perf_counter() - tm
            if ub - best_L <= tol * max(1.0, abs(best_L)):
                break
            r, sel, C, Acol, L = price(lam)
            if L > best_L:
                best_L, best_lam, best_r = L, lam.copy(), r
            plans.append(sel)
            cols.append((C, Acol))
            tm = time.perf_counter()
            add_cut(C, Acol)
            timings["master"] += time.perf_counter() - tm
        duals = res.solution_loader.get_duals()
        mu = np.array([max(0.0, float(duals[m.cuts[i + 1]])) for i in range(len(m.cuts))])
        mu = mu / mu.sum() if mu.sum() > 0 else np.eye(len(mu))[-1]
    lp_activity = sum(mu[p] * cols[p][1] for p in range(len(cols))) if K else np.zeros(0)
    violation = b - lp_activity if K else np.zeros(0)
    info = {"iterations": len(plans), "lp_bound": best_L, "lambda": best_lam, "violation": violation}
    timings["lagrangian"] = time.perf_counter() - t0
    if K and np.any(violation > 1e-7 * np.maximum(1.0, np.abs(b))):
        return Solution(None, SolveStatus.infeasible, np.nan, best_L, np.nan, best_lam, timings, info)

    # ---- finishing MILP with reduced-cost fixing
    mins = np.minimum.reduceat(best_r, pr.starts)
    slack = best_r - mins[pr.gs]
    in_lp = np.zeros(pr.n, dtype=bool)
    for p, plan in enumerate(plans):
        if mu[p] > 1e-12:
            in_lp[plan] = True
    tie = 1e-9 * max(1.0, abs(best_L))
    thresholds = [tie, 1e-6, 1e-4, 1e-2, 1.0]
    thresholds = [tie] + [t * max(1.0, abs(best_L)) for t in thresholds[1:]] + [np.inf]
    keep = (slack <= tie) | in_lp
    incumbent = None
    stage = 0
    time_left = lambda: options.time_limit - (time.perf_counter() - t0)  # noqa: E731
    sol = None
    while True:
        sub = _solve_restricted(pr, keep, rows, b, options, time_left())
        timings["finish_build"] = timings.get("finish_build", 0.0) + sub.timings.get("build", 0.0)
        timings["finish_solve"] = timings.get("finish_solve", 0.0) + sub.timings.get("solve", 0.0)
        if sub.status in (SolveStatus.optimal, SolveStatus.time_limit):
            sol = sub
            if sub.status == SolveStatus.time_limit:
                break
            # Done when the plan is proven within the MIP gap of the Lagrangian bound; otherwise a
            # better plan (by more than the gap) can only use candidates with slack below this.
            threshold = sub.objective - best_L - options.mip_gap * abs(sub.objective)
            if threshold <= tie:
                break
            wider = keep | (slack <= threshold + tie)
            if wider.sum() == keep.sum() or incumbent is not None and stage > 20:
                break
            keep = wider
            incumbent = sub
            stage += 1
            continue
        if sub.status == SolveStatus.infeasible and incumbent is None:
            stage += 1
            if stage >= len(thresholds):
                return Solution(None, SolveStatus.infeasible, np.nan, best_L, np.nan, best_lam, timings, info)
            keep = keep | (slack <= thresholds[stage])
            continue
        sol = incumbent if incumbent is not None else sub
        break
    if sol is None or sol.choice is None:
        status = SolveStatus.time_limit_no_plan if sub.status == SolveStatus.time_limit_no_plan else SolveStatus.error
        return Solution(None, status, np.nan, best_L, np.nan, best_lam, timings, info)
    choice = pr.order[sol.choice]
    obj = float(cost[choice].sum())
    bound = max(best_L, sol.bound if np.isfinite(sol.bound) else best_L)
    gap = _gap(obj, min(bound, obj))
    status = SolveStatus.optimal if sol.status == SolveStatus.optimal else SolveStatus.time_limit
    info["finishing_candidates"] = int(keep.sum())
    info["undecided_skus"] = sol.info.get("undecided", 0)
    timings["total"] = time.perf_counter() - t0
    return Solution(choice, status, obj, bound, gap, best_lam, timings, info)


def _solve_restricted(pr: Pricing, keep: np.ndarray, rows: list[Row], b: np.ndarray,
                      options: hs.SolverOptions, time_left: float) -> Solution:
    """MILP over the kept candidates (sorted positions): SKUs with one kept candidate are fixed and
    enter as constants. Returns choice as sorted positions per SKU."""
    kept_per_group = np.add.reduceat(keep.astype(np.int64), pr.starts)
    n_groups = len(pr.starts)
    fixed_g = kept_per_group == 1
    in_fixed = keep & fixed_g[pr.gs]
    free = keep & ~fixed_g[pr.gs]
    fixed_pos = np.flatnonzero(in_fixed)
    constant = float(pr.cost[fixed_pos].sum())
    rhs = b - pr.A[:, fixed_pos].sum(axis=1)
    choice = np.full(n_groups, -1, dtype=np.int64)
    choice[pr.gs[fixed_pos]] = fixed_pos
    free_pos = np.flatnonzero(free)
    n_free_groups = int((~fixed_g & (kept_per_group > 0)).sum())
    if len(free_pos) == 0:
        if np.any(pr.A[:, fixed_pos].sum(axis=1) < b - 1e-9 * np.maximum(1.0, np.abs(b))):
            return Solution(None, SolveStatus.infeasible, np.nan, np.nan, np.nan)
        obj = constant
        return Solution(choice, SolveStatus.optimal, obj, obj, 0.0, info={"undecided": 0})
    # Renumber the free SKUs 0..F-1 for the small model.
    fg = pr.gs[free_pos]
    uniq, local = np.unique(fg, return_inverse=True)
    sub_rows = [Row(r.name, pr.A[k, free_pos], float(rhs[k]), r.kind) for k, r in enumerate(rows)]
    opts = hs.SolverOptions(time_limit=max(time_left, 1.0), mip_gap=options.mip_gap, tee=options.tee)
    sol = solve_milp(pr.cost[free_pos], local, len(uniq), sub_rows, opts, want_duals=False, constant=constant)
    if sol.choice is None:
        return sol
    choice[uniq] = free_pos[sol.choice]
    sol.choice = choice
    sol.info["undecided"] = n_free_groups
    return sol
