"""The fast structured solve: one choice per SKU plus a few coupling rows.

1. Lagrangian master (Pyomo LP over the multipliers, Kelley cutting planes): each cut is a whole plan
   priced at the current multipliers; the pricing (each SKU's cheapest candidate at reduced cost
   cost - lambda . coef) is vectorised in numpy. At convergence the master's value is the LP
   relaxation's optimum and the multipliers are its duals; only SKUs whose plans disagree (at most as
   many as coupling rows, up to ties) are undecided.
2. Finishing MILP (Pyomo, HiGHS) over the undecided SKUs, the others fixed at their cheapest reduced
   cost. Exactness by reduced-cost fixing: for any feasible plan, cost >= LB + sum of its candidates'
   reduced-cost slacks (LB the Lagrangian bound), so once a plan of cost UB is known only candidates
   with slack <= UB - LB can be in a better plan. The restricted set grows in steps (the candidates of
   smallest slack first, a few times more each step), each step's MILP warm-started from the best plan
   so far, until the plan is proven within the MIP gap of a bound: max(LB, min(restricted MILP bound,
   LB + the slack below which every candidate is in the set)). That is a bound for the full problem.

`Decomposition` holds one selection problem whose rows are affine in the target level t (the
frontier's levels) and solves it level after level: the cuts (plans) stay valid at every level (a
plan's activity is recomputed at t; the master's coefficients are Pyomo Params of t), the multipliers
of the previous level start the next (the price path), and the master LP and the finishing MILP are
built once and re-solved. A known plan (an earlier level's, or a priced plan) that meets level t and
is within the MIP gap of the bound ends the level without a finishing MILP.
"""

from __future__ import annotations

import time

import numba
import numpy as np
import pyomo.environ as pe

from optimizer import solver as hs
from optimizer.finish import FinishModel
from optimizer.model import Solution, _gap
from optimizer.plan import SolveStatus
from optimizer.problem import ParamRows, Row, in_sku_order

# Growth of the finishing MILP's candidate set per step: at least LADDER_MIN more candidates, and
# LADDER_FACTOR times the free candidates it had (the smallest reduced-cost slacks first).
LADDER_MIN = 256
LADDER_FACTOR = 4
MAX_STAGES = 30


class Pricing:
    """Per-SKU pricing in numpy: candidates sorted by SKU once, then argmin per SKU of reduced cost.

    Candidates already in SKU order (optimizer.problem.Prepared.by_sku) are used as they are: no
    sorted copies of cost and A (`order` None), which on a large catalogue are a good part of the
    head's memory while a selection is solved."""

    def __init__(self, cost: np.ndarray, group: np.ndarray, n_groups: int, A: np.ndarray):
        self.order = None if in_sku_order(group) else np.argsort(group, kind="stable")
        g = group if self.order is None else group[self.order]
        self.starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1].astype(np.int64)
        self.gs = g
        self.cost = cost if self.order is None else cost[self.order]
        # Row by row: the pricing reads each row whole.
        self.A = np.ascontiguousarray(A if self.order is None else A[:, self.order])
        self.n = len(cost)
        self._rank: np.ndarray | None = None  # sorted position of each candidate, made when first asked

    def original(self, positions: np.ndarray) -> np.ndarray:
        """Candidate indices (int64, a new array) of sorted positions."""
        return np.array(positions, dtype=np.int64) if self.order is None else self.order[positions]

    def sorted_positions(self, candidates: np.ndarray) -> np.ndarray:
        """Sorted positions (int64, a new array) of candidate indices: the inverse of `original`."""
        if self.order is None:
            return np.array(candidates, dtype=np.int64)
        if self._rank is None:
            self._rank = np.empty(self.n, dtype=np.int64)
            self._rank[self.order] = np.arange(self.n)
        return self._rank[candidates]

    def argmin(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sorted position of each SKU's cheapest candidate, first in ties; the minima). A SKU with a
        NaN reduced cost has minimum NaN and position n, as np.minimum.reduceat would give."""
        return _group_argmin(np.ascontiguousarray(r, dtype=np.float64), self.starts)


def reduced_cost(cost: np.ndarray, A: np.ndarray, lam: np.ndarray, slope: np.ndarray | None = None,
                 t: float = 0.0) -> np.ndarray:
    """cost - lam @ A (shapes (n,), (K, n), (K,)) on this thread; with `slope` (K, n), the rows at
    level t: cost - lam @ (A + t * slope), the same numbers as forming A + t * slope first, without
    the (K, n) array (on a large catalogue, part of the head's peak while a level is solved).
    numpy's `lam @ A` is a BLAS gemv, which OpenBLAS spreads over every core: at the head, where the
    pricing runs a few hundred times per sweep over every candidate, the extra threads cost CPU time
    for no gain in wall time."""
    if not len(lam):
        return np.array(cost, dtype=np.float64)
    cost, A = np.ascontiguousarray(cost, dtype=np.float64), np.ascontiguousarray(A, dtype=np.float64)
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    if slope is None:
        return _reduced_cost(cost, A, lam)
    return _reduced_cost_at(cost, A, np.ascontiguousarray(slope, dtype=np.float64), float(t), lam)


@numba.njit(cache=True)
def _reduced_cost(cost, A, lam):  # pragma: no cover - compiled; tested through reduced_cost
    K, n = A.shape
    r = np.empty(n, dtype=np.float64)
    for i in range(n):
        s = lam[0] * A[0, i]
        for k in range(1, K):
            s += lam[k] * A[k, i]
        r[i] = cost[i] - s
    return r


@numba.njit(cache=True)
def _reduced_cost_at(cost, A, S, t, lam):  # pragma: no cover - compiled; tested through reduced_cost
    K, n = A.shape
    r = np.empty(n, dtype=np.float64)
    for i in range(n):
        s = lam[0] * (A[0, i] + t * S[0, i])
        for k in range(1, K):
            s += lam[k] * (A[k, i] + t * S[k, i])
        r[i] = cost[i] - s
    return r


@numba.njit(cache=True)
def _group_argmin(r, starts):  # pragma: no cover - compiled; tested through Pricing.argmin
    # One pass over the candidates instead of five numpy passes (minima, gather, compare, where,
    # minima): the master's pricing runs hundreds of times per sweep over every candidate of the
    # catalogue.
    n_groups, n = starts.shape[0], r.shape[0]
    sel = np.empty(n_groups, dtype=np.int64)
    mins = np.empty(n_groups, dtype=np.float64)
    for g in range(n_groups):
        end = starts[g + 1] if g + 1 < n_groups else n
        best, at = r[starts[g]], starts[g]
        for i in range(starts[g], end):
            if np.isnan(r[i]):
                best, at = np.nan, n
                break
            if r[i] < best:
                best, at = r[i], i
        sel[g], mins[g] = at, best
    return sel, mins


def solve_decomposition(cost: np.ndarray, group: np.ndarray, n_groups: int, rows: list[Row],
                        options: hs.SolverOptions, warm_lambda: np.ndarray | None = None,
                        max_iter: int = 300, tol: float | None = None) -> Solution:
    """Solve the selection problem by Lagrangian master + finishing MILP (see module doc), once.
    Returns the chosen candidate index per SKU, the status, objective, bound, gap and the rows' LP
    duals (the multipliers)."""
    K = len(rows)
    A = np.array([r.coef for r in rows], dtype=float).reshape(K, len(cost))
    prow = ParamRows([r.name for r in rows], [r.kind for r in rows], A, np.zeros_like(A),
                     np.array([r.rhs for r in rows], dtype=float), False)
    return Decomposition(cost, group, n_groups, prow, options, max_iter, tol).solve(None, warm_lambda=warm_lambda)


class Decomposition:
    """One selection problem (rows affine in the level t, see ParamRows), solved for one level after
    another with everything that stays valid kept: the plans priced so far (the master's cuts), the
    multipliers (the next level starts from them), the master LP and the finishing MILP (built once,
    re-solved with t and the right-hand sides as Pyomo Params)."""

    def __init__(self, cost: np.ndarray, group: np.ndarray, n_groups: int, prow: ParamRows,
                 options: hs.SolverOptions, max_iter: int = 300, tol: float | None = None):
        self.options = options
        self.tol = max(1e-10, 0.01 * options.mip_gap) if tol is None else tol  # tighter than the gap it certifies
        self.max_iter = max_iter
        self.K = prow.K
        self.b = np.asarray(prow.b, dtype=float)
        self.pr = Pricing(cost, group, n_groups, prow.A0)
        order = self.pr.order
        self.S = np.ascontiguousarray(prow.slope if order is None else prow.slope[:, order])
        self.has_t = prow.has_target
        self.scale = float(np.abs(cost).sum()) + 1.0
        # the bundle: every plan priced so far (_pack), its cost and its activities
        self.plans: list[np.ndarray] = []
        sizes = np.diff(np.r_[self.pr.starts, self.pr.n])
        largest = int(sizes.max()) if len(sizes) else 0
        self._offset = np.uint8 if largest <= 255 else np.uint16 if largest <= 65535 else None
        self.C: list[float] = []
        self.act0: list[np.ndarray] = []
        self.actS: list[np.ndarray] = []
        self._key: dict[int, list[int]] = {}
        self.lam: np.ndarray | None = None  # the multipliers of the last level (the price path)
        self.m: pe.ConcreteModel | None = None
        self.opt = None
        self.finish = FinishModel(self.pr.cost, self.pr.gs, self.pr.starts, self.pr.A, self.S, self.b)
        self.master_solves = 0

    def _rows_at(self, tt: float, a0: np.ndarray, slope: np.ndarray) -> np.ndarray:
        """Coefficients at level tt from their parts at 0 and their slope (the parts as given when the
        rows have no target)."""
        return a0 + tt * slope if self.has_t else a0

    # ---- the bundle and the master
    def _pack(self, sel: np.ndarray) -> np.ndarray:
        """A plan (sorted position per SKU) as the bundle keeps it: each SKU's offset from its first
        candidate in the smallest unsigned type that holds every SKU's candidates (a sweep prices
        hundreds of plans of one number per SKU each: at the head's peak, they were a good part of
        it); the positions themselves (int64) when an offset does not fit."""
        offsets = sel - self.pr.starts
        fits = self._offset is not None and np.all((offsets >= 0) & (offsets <= np.iinfo(self._offset).max))
        return offsets.astype(self._offset) if fits else sel.astype(np.int64)

    def _plan(self, p: int) -> np.ndarray:
        """Plan p of the bundle as sorted positions (int64)."""
        packed = self.plans[p]
        return self.pr.starts + packed if packed.dtype.kind == "u" else packed

    def _add_plan(self, sel: np.ndarray) -> int:
        # Plans are looked up by a hash of their packed bytes (equal hashes compared in full).
        packed = self._pack(sel)
        key = hash(packed.tobytes())
        for p in self._key.get(key, ()):
            if np.array_equal(self.plans[p], packed) and self.plans[p].dtype == packed.dtype:
                return p
        p = len(self.plans)
        self._key.setdefault(key, []).append(p)
        self.plans.append(packed)
        self.C.append(float(self.pr.cost[sel].sum()))
        # np.take, not A[:, sel]: numpy's mixed slice-and-array indexing takes its slow general path.
        self.act0.append(np.take(self.pr.A, sel, axis=1).sum(axis=1))
        self.actS.append(np.take(self.S, sel, axis=1).sum(axis=1))
        if self.m is not None:
            self._add_cut(p)
        return p

    def _cut(self, p: int):
        """theta <= C_p + lam . (b - activity_p(t)), activity_p(t) = act0_p + t actS_p."""
        m = self.m
        expr = m.theta
        for k in range(self.K):
            a0, s = float(self.act0[p][k] - self.b[k]), float(self.actS[p][k])
            expr = expr + ((a0 + m.t * s) if s != 0.0 else a0) * m.lam[k]
        return expr <= self.C[p]

    def _add_cut(self, p: int) -> None:
        con = self.m.cuts.add(self._cut(p))
        if self.opt is not None:
            self.opt.add_constraints([con])

    def _master_at(self, t: float, M: np.ndarray) -> None:
        """The master LP at level t (built on first use, with every plan of the bundle as a cut)."""
        if self.m is None:
            m = self.m = pe.ConcreteModel()
            m.t = pe.Param(mutable=True, initialize=t)
            m.lam = pe.Var(range(self.K), bounds=lambda _, k: (0.0, float(M[k])))
            m.theta = pe.Var()
            m.cuts = pe.ConstraintList()  # cut i + 1 is plan i
            m.obj = pe.Objective(expr=m.theta, sense=pe.maximize)
            for p in range(len(self.plans)):
                self._add_cut(p)
            self.opt = hs.persistent(m)
            return
        m = self.m
        m.t.set_value(t)
        for k in range(self.K):
            m.lam[k].setub(float(M[k]))
        self.opt.update_variables(list(m.lam.values()))
        self.opt.update_parameters()

    def known_plans(self, t: float | None) -> tuple[np.ndarray | None, float]:
        """The cheapest plan of the bundle that meets the rows at t: (candidate index per SKU, cost)."""
        if not self.plans:
            return None, np.inf
        tt = 0.0 if t is None else float(t)
        act = np.array(self.act0) + tt * np.array(self.actS)
        ok = np.all(act >= self.b - 1e-9 * np.maximum(1.0, np.abs(self.b)), axis=1)
        if not ok.any():
            return None, np.inf
        C = np.where(ok, np.array(self.C), np.inf)
        p = int(np.argmin(C))
        return self.pr.original(self._plan(p)), float(C[p])

    # ---- one level
    def solve(self, t: float | None, incumbent: tuple[np.ndarray, float] | None = None, bound_floor: float = -np.inf,
              warm_lambda: np.ndarray | None = None, finish: bool = True) -> Solution:
        """The plan for level t (None: the rows have no target). `incumbent`: a plan known to meet the
        rows at t (candidate index per SKU, its cost); `bound_floor`: a proven lower bound on the
        optimum at t (e.g. an earlier, lower level's). Returns choice, status, objective, bound, gap
        and the multipliers as duals. finish=False stops after the Lagrangian master: the choice is
        then each SKU's cheapest candidate at the final multipliers (the price-optimal plan, which
        may miss the rows in the few SKUs the finishing MILP would decide), its objective that
        plan's cost, its bound the Lagrangian bound and its gap NaN (not a proven plan);
        info["finished"] is False."""
        t0 = time.perf_counter()
        options, K, pr, b = self.options, self.K, self.pr, self.b
        tt = 0.0 if t is None else float(t)
        slope = self.S if self.has_t else None  # the rows at t: pr.A + tt * slope, never formed whole
        timings = {"pricing": 0.0, "master": 0.0}

        def price(lam):
            tp = time.perf_counter()
            r = reduced_cost(pr.cost, pr.A, lam, slope, tt)
            sel, mins = pr.argmin(r)
            L = float(mins.sum() + lam @ b)
            p = self._add_plan(sel)
            timings["pricing"] += time.perf_counter() - tp
            return r, sel, L, p

        zero = np.zeros(K)
        r, sel, L, p0 = price(zero)
        Acol = self._rows_at(tt, np.take(pr.A, sel, axis=1), np.take(self.S, sel, axis=1)).sum(axis=1)
        if K == 0 or not np.any(Acol < b - 1e-12):
            # The cheapest candidate of every SKU meets the rows: optimal, and every multiplier is 0.
            obj = self.C[p0]
            timings["total"] = time.perf_counter() - t0
            return Solution(pr.original(sel), SolveStatus.optimal, obj, obj, 0.0, zero, timings,
                            {"iterations": 1, "lp_bound": L, "lambda": zero, "violation": b - Acol,
                             "finishing_candidates": 0, "undecided_skus": 0, "stages": 0})
        best_L, best_lam, best_r = L, zero, r
        row_scale = np.maximum([np.abs(self._rows_at(tt, pr.A[k], self.S[k])).max(initial=0.0) for k in range(K)],
                               1e-12)
        # A multiplier beyond M_k would value one unit of row k at a million times the whole cost; above
        # it the master prefers violating the row (then the rules cannot be met, see `violation`).
        M = 1e6 * self.scale / row_scale
        lam0 = warm_lambda if warm_lambda is not None else self.lam
        if lam0 is not None and len(lam0) == K and np.any(np.asarray(lam0) > 0):
            lam_w = np.clip(np.asarray(lam0, dtype=float), 0.0, M)
            r, sel, L, _ = price(lam_w)
            if L > best_L:
                best_L, best_lam, best_r = L, lam_w, r
        tm = time.perf_counter()
        self._master_at(tt, M)
        timings["master"] += time.perf_counter() - tm
        lp_opts = hs.SolverOptions(time_limit=options.time_limit, mip_gap=0.0, tee=False)
        iterations = 0
        for it in range(self.max_iter):
            tm = time.perf_counter()
            status, res = hs.run(self.opt, self.m, lp_opts, mip=False)
            self.master_solves += 1
            iterations += 1
            if status in (SolveStatus.time_limit, SolveStatus.time_limit_no_plan):
                # Out of time inside the Lagrangian phase: no plan yet (the finishing MILP never ran).
                timings["lagrangian"] = time.perf_counter() - t0
                return Solution(None, SolveStatus.time_limit_no_plan, np.nan, best_L, np.nan, best_lam, timings)
            if status != SolveStatus.optimal:
                raise RuntimeError(f"Lagrangian master LP ended {res.termination_condition}")
            res.solution_loader.load_vars()
            ub = float(pe.value(self.m.theta))
            lam = np.array([max(0.0, pe.value(self.m.lam[k])) for k in range(K)])
            timings["master"] += time.perf_counter() - tm
            if ub - best_L <= self.tol * max(1.0, abs(best_L)) or it == self.max_iter - 1:
                break  # (the last iteration adds no cut: the duals below are this solve's)
            n_before = len(self.plans)
            r, sel, L, _ = price(lam)
            if L > best_L:
                best_L, best_lam, best_r = L, lam, r
            if len(self.plans) == n_before:  # a plan the master has already: no progress left
                break
        duals = res.solution_loader.get_duals()
        mu = np.array([max(0.0, float(duals[self.m.cuts[i + 1]])) for i in range(len(self.m.cuts))])
        mu = mu / mu.sum() if mu.sum() > 0 else np.eye(len(mu))[-1]
        self.lam = best_lam
        acts = np.array(self.act0[:len(mu)]) + tt * np.array(self.actS[:len(mu)])
        violation = b - mu @ acts
        info = {"iterations": iterations, "lp_bound": best_L, "lambda": best_lam, "violation": violation}
        timings["lagrangian"] = time.perf_counter() - t0
        if np.any(violation > 1e-7 * np.maximum(1.0, np.abs(b))):
            return Solution(None, SolveStatus.infeasible, np.nan, best_L, np.nan, best_lam, timings, info)
        if not finish:
            sel = pr.argmin(best_r)[0]
            obj = float(pr.cost[sel].sum())
            info["finished"] = False
            timings["total"] = time.perf_counter() - t0
            return Solution(pr.original(sel), SolveStatus.optimal, obj, best_L, np.nan, best_lam, timings, info)
        return self._finish(t, best_L, best_lam, best_r, mu, incumbent, bound_floor, t0, timings, info)

    # ---- the finish: reduced-cost fixing, the candidate set grown in steps
    def _finish(self, t, LB, lam, r, mu, incumbent, bound_floor, t0, timings, info) -> Solution:
        options, pr = self.options, self.pr
        gap_rel = options.mip_gap
        mins = np.minimum.reduceat(r, pr.starts)
        slack = r - mins[pr.gs]
        floor = max(LB, bound_floor)
        # Candidates tied with their SKU's cheapest, up to rounding: rounding is relative to one
        # candidate's cost, so the tolerance is one SKU's share of the bound, not the bound itself,
        # which grows with the catalogue (a large one had SKUs "tied" that merely differed little).
        tie = 1e-9 * max(1.0, abs(LB) / len(pr.starts))
        # the best plan known: the caller's, or a plan of the bundle that meets the rows at t
        best, best_cost = None, np.inf
        known, known_cost = self.known_plans(t)
        if known is not None:
            best, best_cost = pr.sorted_positions(known), known_cost
        if incumbent is not None and incumbent[1] < best_cost:
            best, best_cost = pr.sorted_positions(np.asarray(incumbent[0])), float(incumbent[1])
        info.update(stages=0, finishing_candidates=0, undecided_skus=0)

        def done(status, bound):
            obj = float(pr.cost[best].sum())
            bound = float(bound)
            timings["total"] = time.perf_counter() - t0
            return Solution(pr.original(best), status, obj, bound, _gap(obj, min(bound, obj)), lam, timings, info)

        if best is not None and best_cost - floor <= gap_rel * abs(best_cost):
            info["reused"] = True
            return done(SolveStatus.optimal, floor)
        in_lp = np.zeros(pr.n, dtype=bool)
        for p in np.flatnonzero(mu > 1e-12):
            in_lp[self._plan(p)] = True
        # The best known plan bounds the search (and starts the MILP once the set holds it); its
        # candidates are not added: a priced plan can differ from the LP's choice in many SKUs.
        keep = (slack <= tie) | in_lp
        covered = tie  # every candidate of slack <= covered is in `keep`
        status = SolveStatus.optimal
        time_left = lambda: options.time_limit - (time.perf_counter() - t0)  # noqa: E731
        GB = floor
        for stage in range(MAX_STAGES):
            sub = self.finish.solve(keep, t, options, time_left(), start=best)
            info["stages"] = stage + 1
            timings["finish_build"] = timings.get("finish_build", 0.0) + sub.timings.get("build", 0.0)
            timings["finish_solve"] = timings.get("finish_solve", 0.0) + sub.timings.get("solve", 0.0)
            info["finishing_candidates"] = int(keep.sum())
            info["undecided_skus"] = sub.info.get("undecided", info["undecided_skus"])
            if sub.status in (SolveStatus.optimal, SolveStatus.time_limit):
                if best is None or sub.objective < best_cost:
                    best, best_cost = sub.choice, float(sub.objective)
                GB = max(GB, floor, min(sub.bound if np.isfinite(sub.bound) else -np.inf, LB + covered))
                if sub.status == SolveStatus.time_limit:
                    status = SolveStatus.time_limit
                    break
            elif sub.status == SolveStatus.infeasible:
                GB = max(GB, floor, LB + covered)
            else:  # stopped before any plan (time limit), or failed
                if best is None:
                    timings["total"] = time.perf_counter() - t0
                    no_plan = sub.status == SolveStatus.time_limit_no_plan
                    status = SolveStatus.time_limit_no_plan if no_plan else SolveStatus.error
                    return Solution(None, status, np.nan, LB, np.nan, lam, timings, info)
                status = SolveStatus.time_limit
                break
            if best is not None and best_cost - GB <= gap_rel * abs(best_cost):
                break
            # Widen: a plan better than best by more than the gap has total slack <= need.
            need = best_cost - LB - gap_rel * abs(best_cost) if best is not None else np.inf
            rest = ~keep & (slack <= need + tie)
            if not rest.any():
                if best is None:  # not even the full candidate set has a plan
                    timings["total"] = time.perf_counter() - t0
                    return Solution(None, SolveStatus.infeasible, np.nan, LB, np.nan, lam, timings, info)
                GB = max(GB, min(sub.bound if np.isfinite(sub.bound) else -np.inf, LB + need + tie))
                break
            values = np.sort(slack[rest])
            n_free = int(keep.sum()) - len(pr.starts)
            n_add = max(LADDER_MIN, LADDER_FACTOR * n_free)
            if n_add >= len(values):
                keep |= rest
                covered = need + tie
            else:
                covered = float(values[n_add - 1])
                keep |= ~keep & (slack <= covered)
        if best is None:
            timings["total"] = time.perf_counter() - t0
            return Solution(None, SolveStatus.error, np.nan, LB, np.nan, lam, timings, info)
        return done(status, GB)
