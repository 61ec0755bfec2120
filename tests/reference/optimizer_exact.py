"""Exact evaluations for the optimizer's reference tests (no simulation noise): base stock with
backorders (newsvendor), (s,S) with Poisson demand, backorders and a fixed order cost (renewal formula
of Zheng & Federgruen 1991), and lost sales with lead times (Markov chain policy evaluation and
relative value iteration over all policies, as in Zipkin 2008). Timing as docs/simulation.md with
R = 1: an order placed at the start of period t arrives at the start of period t+L, before demand;
costs are charged on the end-of-period position."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import sparse, stats

COSTS = ["cost_carrying", "cost_ordering", "cost_order_processing", "cost_transport", "cost_warehousing",
         "cost_shortage", "cost_total"]


def evaluation_row(sku: str, family: str, mu: float, *, s=np.nan, S=np.nan, Q=np.nan, cap=np.nan, R=1,
                   mode="truck", carrying=0.0, ordering=0.0, shortage=0.0, fill_rate=1.0, on_hand=0.0,
                   unit_cost=1.0) -> dict:
    """One evaluations-table row with exact figures (half-widths 0)."""
    row = dict(sku=sku, family=family, mode=mode, s=float(s), S=float(S), Q=float(Q), R=R, cap=float(cap),
               fill_rate=fill_rate, cycle_service_level=np.nan, order_fill_rate=np.nan, stockout_frequency=np.nan,
               order_cycle_mean=0.0, order_cycle_sd=0.0, on_time_rate=np.nan, backorder_rate=1 - fill_rate,
               substitution_rate=0.0, lost_sales_rate=0.0, customers_lost=0.0, avg_on_hand=on_hand,
               avg_in_transit=0.0, cost_carrying=carrying, cost_ordering=ordering, cost_order_processing=0.0,
               cost_transport=0.0, cost_warehousing=0.0, cost_shortage=shortage,
               cost_total=carrying + ordering + shortage, demand_per_period=mu, orders_per_period=mu,
               vehicles_per_period=0.0, inventory_value=on_hand * unit_cost, replications=1)
    row.update({f"{c}_ci": 0.0 for c in COSTS + ["fill_rate"]})
    return row


def poisson_pmf(mean: float, n: int) -> np.ndarray:
    """P(D = 0..n-1); the last entry takes the tail so the vector sums to 1."""
    p = stats.poisson.pmf(np.arange(n), mean)
    p[-1] += 1 - p.sum()
    return p


# ---------------------------------------------------------------- base stock / newsvendor, backorders
def base_stock_backorder(mu: float, L: int, h: float, p: float, S: int) -> dict:
    """Exact per-period figures of base stock S (R = 1, lead time L, Poisson(mu) per period,
    backorders): net inventory at the end of a period is S - D over L+1 periods."""
    n = int(mu * (L + 1) + 20 * np.sqrt(mu * (L + 1)) + 40 + S)
    k = np.arange(n)
    pl1 = poisson_pmf(mu * (L + 1), n)
    carrying = h * float(np.sum(np.maximum(S - k, 0) * pl1))
    shortage = p * float(np.sum(np.maximum(k - S, 0) * pl1))
    pL, p1 = poisson_pmf(mu * L, n), poisson_pmf(mu, n)
    on_hand_before = np.maximum(S - k, 0)  # after L periods of demand
    filled = float(np.sum(pL[:, None] * p1[None, :] * np.minimum(on_hand_before[:, None], k[None, :])))
    return dict(carrying=carrying, shortage=shortage, fill_rate=filled / mu, on_hand=carrying / h if h else 0.0)


def critical_fractile_S(mu: float, L: int, h: float, p: float) -> int:
    """Smallest S with P(D over L+1 periods <= S) >= p / (p + h)."""
    return int(stats.poisson.ppf(p / (p + h), mu * (L + 1)))


# ---------------------------------------------------------------- (s,S), Poisson, backorders, order cost K
class SsExact:
    """Exact long-run cost per period of (s,S) (order up to S when the inventory position is <= s),
    by the renewal formula c(s,S) = [K + sum_{j<S-s} m(j) G(S-j)] / M(S-s)."""

    def __init__(self, lam: float, L: int, h: float, p: float, K: float, y_min: int = -60, y_max: int = 400):
        self.lam, self.L, self.h, self.p, self.K = lam, L, h, p, K
        n = y_max - y_min + 200
        pd1 = poisson_pmf(lam, n)
        m = np.zeros(n)
        m[0] = 1 / (1 - pd1[0])
        for j in range(1, n):
            m[j] = np.dot(pd1[1:j + 1], m[j - 1::-1][:j]) / (1 - pd1[0])
        self.m, self.M = m, np.r_[0.0, np.cumsum(m)]
        self.y_min = y_min
        k = np.arange(n + y_max)
        pl1 = poisson_pmf(lam * (L + 1), len(k))
        ys = np.arange(y_min, y_max + 1)
        self.G_h = np.array([h * np.sum(np.maximum(y - k, 0) * pl1) for y in ys])
        self.G_p = np.array([p * np.sum(np.maximum(k - y, 0) * pl1) for y in ys])
        self.pL, self.p1, self.k = poisson_pmf(lam * L, len(k)), poisson_pmf(lam, len(k)), k

    def _G(self, y):
        i = np.asarray(y) - self.y_min
        return self.G_h[i] + self.G_p[i]

    def figures(self, s: int, S: int) -> dict:
        """carrying, shortage, ordering per period, fill rate and average on hand."""
        d = S - s
        w = self.m[:d] / self.M[d]  # stationary P(IP after ordering = S - j)
        ys = S - np.arange(d)
        i = ys - self.y_min
        carrying = float(w @ self.G_h[i])
        shortage = float(w @ self.G_p[i])
        ordering = self.K / self.M[d]
        # E[min(z, D)] for on hand z before one period's demand D; on hand = (y - D over L periods)^+
        k = self.k
        e = np.r_[0.0, np.cumsum(1 - np.cumsum(self.p1))[: len(k) - 1]]  # E[min(z, D)] = sum_{i<z} P(D > i)
        filled = 0.0
        for wy, y in zip(w, ys):
            z = np.maximum(y - k, 0)
            filled += wy * float(self.pL @ e[z])
        return dict(carrying=carrying, shortage=shortage, ordering=ordering, fill_rate=filled / self.lam,
                    on_hand=carrying / self.h)

    def cost(self, s: int, S: int) -> float:
        d = S - s
        j = np.arange(d)
        return float((self.K + self.m[:d] @ self._G(S - j)) / self.M[d])

    def optimum(self, s_range, d_max: int) -> tuple[float, int, int]:
        """The exact optimum over s in s_range, 1 <= S - s <= d_max (a grid holding the
        Zheng-Federgruen optimum); returns (cost, s, S)."""
        best = (np.inf, 0, 0)
        for s in s_range:
            G = self._G(s + 1 + np.arange(d_max))  # G(s+1) .. G(s+d_max)
            for d in range(1, d_max + 1):
                c = (self.K + self.m[:d] @ G[d - 1::-1][:d]) / self.M[d]
                if c < best[0]:
                    best = (float(c), s, s + d)
        return best


# ---------------------------------------------------------------- lost sales, lead time L >= 1
class LostSales:
    """Periodic review lost-sales model: state (y, q_1..q_{L-1}): y = on hand plus the order arriving
    this period, q_i the later orders in transit. Each period: order a, sell min(y, D), lose the rest,
    hold (y - D)^+ at h per unit; next y = (y - D)^+ + q_1. Demand Poisson, truncated at d_max."""

    def __init__(self, mean: float, L: int, h: float, p: float, y_max: int, q_max: int, d_max: int = 20):
        self.L, self.h, self.p, self.y_max, self.q_max = L, h, p, y_max, q_max
        self.pd = poisson_pmf(mean, d_max + 1)
        self.d = np.arange(d_max + 1)
        dims = [y_max + 1] + [q_max + 1] * (L - 1)
        self.states = np.array(list(itertools.product(*[range(n) for n in dims])), dtype=np.int64).reshape(-1, len(dims))
        self.dims = dims
        y = self.states[:, 0]
        left = np.maximum(y[:, None] - self.d[None, :], 0)  # (n, D)
        self.left = left
        self.held_now = left @ self.pd
        self.lost_now = np.maximum(self.d[None, :] - y[:, None], 0) @ self.pd
        self.cost_now = self.h * self.held_now + self.p * self.lost_now
        self.ip = self.states.sum(axis=1)

    def _next_index(self, a: np.ndarray) -> np.ndarray:
        """Index of the next state for each state (rows) x demand (cols) under orders a per state."""
        st = self.states
        if self.L == 1:
            ny = np.minimum(self.left + a[:, None], self.y_max)
            return ny
        ny = np.minimum(self.left + st[:, 1][:, None], self.y_max)
        rest = [st[:, i] for i in range(2, self.L)] + [np.minimum(a, self.q_max)]
        idx = ny
        for r, n in zip(rest, self.dims[1:]):
            idx = idx * n + r[:, None]
        return idx

    def policy_cost(self, orders: np.ndarray, iters: int = 3000, tol: float = 1e-10) -> float:
        """Long-run cost per period of a stationary policy (orders per state)."""
        return self.policy_figures(orders, iters, tol)["cost"]

    def policy_figures(self, orders: np.ndarray, iters: int = 3000, tol: float = 1e-10) -> dict:
        """Long-run held units, lost units and cost per period of a stationary policy, by iterating the
        state distribution (from the empty state) to its stationary law."""
        nxt = self._next_index(orders)
        n = len(self.states)
        pi = np.zeros(n)
        pi[0] = 1.0
        for _ in range(iters):
            new = np.bincount(nxt.ravel(), weights=(pi[:, None] * self.pd[None, :]).ravel(), minlength=n)
            if np.abs(new - pi).sum() < tol:
                pi = new
                break
            pi = new
        return dict(cost=float(pi @ self.cost_now), held=float(pi @ self.held_now), lost=float(pi @ self.lost_now))

    def base_stock(self, S: int, cap: int | None = None) -> dict:
        """Figures of base stock S, capped at `cap` units per order when given."""
        a = np.maximum(S - self.ip, 0)
        if cap is not None:
            a = np.minimum(a, cap)
        return self.policy_figures(np.minimum(a, self.q_max))

    def optimum(self, iters: int = 5000, tol: float = 1e-7) -> float:
        """Optimal long-run cost per period by relative value iteration over orders 0..q_max."""
        n = len(self.states)
        nxts = [self._next_index(np.full(n, a)) for a in range(self.q_max + 1)]
        v = np.zeros(n)
        g = 0.0
        for _ in range(iters):
            q = np.min([self.cost_now + v[nx] @ self.pd for nx in nxts], axis=0)
            g_new = q[0]
            new_v = q - q[0]
            diff = q - v
            if diff.max() - diff.min() < tol:
                return float(0.5 * (diff.max() + diff.min()))
            v, g = new_v, g_new
        return float(g)


class LostSalesPipeline(LostSales):
    """The same lost-sales model (L >= 2), solved fast enough for L = 4 (about 60,000 states): the
    next state is (y', q_2..q_{L-1}, a) where only y' is random and depends on (y, q_1) alone, so one
    period's expectation is a product with the small sparse matrix T[(y, q_1), y'] = P(next y = y').
    Sparse on purpose: scipy's sparse products run on one thread, and BLAS threads fighting over a
    busy CI machine made the dense version ten times slower."""

    def __init__(self, mean: float, L: int, h: float, p: float, y_max: int, q_max: int, d_max: int = 20):
        if L < 2:
            raise ValueError("LostSalesPipeline needs L >= 2 (use LostSales for L = 1)")
        super().__init__(mean, L, h, p, y_max, q_max, d_max)
        Y, Q = y_max + 1, q_max + 1
        y, q1 = np.meshgrid(np.arange(Y), np.arange(Q), indexing="ij")
        ny = np.minimum(np.maximum(y[..., None] - self.d, 0) + q1[..., None], y_max)  # (Y, Q, D)
        rows = np.broadcast_to((y * Q + q1)[..., None], ny.shape).ravel()
        probs = np.broadcast_to(self.pd, ny.shape).ravel()
        self.T = sparse.csr_matrix((probs, (rows, ny.ravel())), shape=(Y * Q, Y))  # duplicates are summed
        self.TT = self.T.T.tocsr()
        self.mid = Q ** (L - 2)  # number of (q_2..q_{L-1}) combinations

    def _expected_next(self, v: np.ndarray) -> np.ndarray:
        """E[v(next state)] for every state x order a: array (states, a)."""
        Y, Q = self.y_max + 1, self.q_max + 1
        return (self.T @ v.reshape(Y, self.mid * Q)).reshape(-1, Q)

    def optimal_policy(self, iters: int = 5000, tol: float = 1e-7) -> tuple[float, np.ndarray]:
        """Optimal long-run cost per period (relative value iteration until the span of the one-step
        change is below tol, so the cost is exact to tol / 2) and an optimal order per state."""
        v = np.zeros(len(self.states))
        for _ in range(iters):
            ev = self._expected_next(v)
            q = self.cost_now + ev.min(axis=1)
            diff = q - v
            if diff.max() - diff.min() < tol:
                return float(0.5 * (diff.max() + diff.min())), ev.argmin(axis=1)
            v = q - q[0]
        raise RuntimeError("relative value iteration did not converge")

    def optimum(self, iters: int = 5000, tol: float = 1e-7) -> float:
        """Optimal long-run cost per period by relative value iteration over orders 0..q_max."""
        return self.optimal_policy(iters, tol)[0]

    def stationary(self, orders: np.ndarray, iters: int = 3000, tol: float = 1e-10) -> np.ndarray:
        """Stationary state distribution of a stationary policy (orders per state, clipped to q_max),
        iterated from the empty state until one period moves less than tol of probability."""
        Q, mid, n = self.q_max + 1, self.mid, len(self.states)
        a = np.minimum(orders, self.q_max)
        # only states with inventory position <= M are ever visited, for the smallest M >= 0 with
        # ip + order <= M on all of them (a period without demand keeps ip + order): for base stock
        # S that is M = S, a third of the states at L = 4, so each step is three times cheaper
        M = 0
        while (M2 := max(M, int((self.ip + a)[self.ip <= M].max()))) > M:
            M = M2
        sub = np.flatnonzero(self.ip <= M)
        pos = np.full(n, -1)
        pos[sub] = np.arange(len(sub))
        rest = sub % mid  # (q_2..q_{L-1}) of each state, shifted one slot forward
        ny = np.minimum(self.left[sub] + self.states[sub, 1][:, None], self.y_max)  # (states, demand)
        nxt = pos[(ny * mid + rest[:, None]) * Q + a[sub][:, None]]
        assert (nxt >= 0).all(), "the visited set is closed"
        m, D = nxt.shape
        # row = this state, one entry per demand (repeats are summed by the product); the transpose is
        # stored by rows so each step gathers (a scattering product was four times slower)
        P = sparse.csr_matrix((np.broadcast_to(self.pd, nxt.shape).ravel(), nxt.ravel(), np.arange(0, m * D + 1, D)),
                              shape=(m, m))
        P_T = P.T.tocsr()
        pi = np.zeros(m)
        pi[pos[0]] = 1.0
        for k in range(iters):
            new = P_T @ pi
            if k % 4 == 3 and np.abs(new - pi).sum() < tol:  # the check costs as much as a step
                full = np.zeros(n)
                full[sub] = new
                return full
            pi = new
        raise RuntimeError("stationary distribution did not converge")

    def policy_figures(self, orders: np.ndarray, iters: int = 3000, tol: float = 1e-10) -> dict:
        """Long-run held units, lost units and cost per period of a stationary policy."""
        pi = self.stationary(orders, iters, tol)
        return dict(cost=float(pi @ self.cost_now), held=float(pi @ self.held_now), lost=float(pi @ self.lost_now))
