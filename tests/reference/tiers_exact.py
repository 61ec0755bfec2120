"""Exact long-run figures of two customer tiers under critical-level rationing (docs/tiers.md), lost
sales, base stock S reviewed every period (R = 1), fixed lead time L, no simulation noise.

Model (docs/simulation.md's period steps, docs/tiers.md's allocation):

- demand: N ~ Poisson(lam) customer orders per period, each of ONE unit (compound demand, size 1);
  each order is, independently, of tier 0 (the top tier) with probability p, else of tier 1, so the
  orders of a period come in iid random tier order;
- every short customer is lost (wait 0, lost_sale 1); partial shipments do not matter (size 1);
- critical level c: a tier-0 order is served when on hand > 0, a tier-1 order only when on hand > c
  (c_1 = round(c * 1 / (K - 1)) = c with K = 2 tiers; c = 0 is FIFO);
- period t: 1. review: order q = S - IP when IP = on hand + on order < S (no backlog under lost
  sales); 2. receive what is due (an order placed at t with lead time L arrives here at t + L, so in
  the same period when L = 0); 4. the orders one at a time; 5. end: on hand counted for holding;
- start: on hand S, nothing on order.

The chain. The state at the start of period t, before the review, is (x, p_0, ..., p_{L-1}): on
hand and the orders due in step 2 of t, t+1, ..., t+L-1. With q = max(S - x - sum p, 0), the on
hand in step 4 is a = x + q (L = 0) or a = x + p_0 (L >= 1); if s units are served, the next state
is (a - s,) (L = 0) or (a - s, p_1, ..., p_{L-1}, q). The states reachable from (S, 0, ..., 0) are
enumerated and the stationary distribution pi solved. Two special cases, derived from this:
L = 0: the review tops up to S and the order arrives before demand, so a = S in every period
(the periods are iid); L = 1: IP at the review of t is x_t + q_{t-1} = a_t <= S, so q_t = S - a_t
and a_{t+1} = (a_t - s_t) + q_t = S - s_t: the chain of on hand after receipt, a' = S - s.

Within a period, a DP over the orders (their number Poisson, truncated where the tail is below
1e-12 and the tail's mass given to the last count kept, so that every row sums to 1), one order at a
time with its iid tier, gives for each on hand a the joint distribution of (s0, s1) = units served
to tier 0 and tier 1 (end on hand a - s0 - s1) and, in each cell, the conditional first and second
moments of the lost units (l0, l1). From them:

    t{k}_fill_rate = E_pi[s_k] / (lam p_k)       fill_rate = E_pi[s0 + s1] / lam
    avg_on_hand    = E_pi[a - s0 - s1]            orders_per_period = P_pi(q > 0)
    cost_total     = h avg_on_hand + sum_k lost_k E_pi[l_k] + order_cost P_pi(q > 0)

with E[l_k] = lam p_k - E[s_k] and lost_k = costs.lost_sale + tier k's goodwill.

For the tolerances of the simulation tests, every figure also gets its asymptotic standard
deviation per period, `sd`: a replication of P counted periods estimates it with a standard error
sd / sqrt(P). A figure is a ratio or mean of per-period sums; linearised, it is the time average
of g_t = G(X_t) + alpha . s_t + beta . l_t (e.g. g = s0 - F0 (s0 + l0) for the tier-0 fill rate,
divided by lam p). With gbar(x) = E[g | x] - mu and h solving (I - P + 1 pi) h = gbar (so pi h = 0),

    sigma^2 = E_pi[(g - mu)^2] + 2 E_pi[(g_0 - mu) h(X_1)]

(the lag covariances sum to the second term, since g_k's dependence on the past goes through X_k).

`best_policy` enumerates (S, c), c <= S, for the exact-cost minimum: the reference for the
optimiser's tier-aware search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats
from scipy.linalg import lu_factor, lu_solve

TAIL = 1e-12


def order_count_pmf(lam: float, tail: float = TAIL) -> np.ndarray:
    """P(N = n), n = 0 .. n_max, N ~ Poisson(lam), n_max the first count with P(N > n_max) < tail;
    the tail's mass is added to the last entry (the array sums to 1)."""
    n_max = int(stats.poisson.ppf(1.0 - tail, lam)) + 1
    while stats.poisson.sf(n_max, lam) >= tail:
        n_max += 1
    pmf = stats.poisson.pmf(np.arange(n_max + 1), lam)
    pmf[-1] += max(0.0, 1.0 - pmf.sum())
    return pmf


@dataclass(frozen=True)
class PeriodTable:
    """Step 4 of a period with a units on hand: over the cells (s0, s1) (units served to tier 0 and
    tier 1, s0 + s1 <= a), `mass` P(s0, s1), and the conditional moments of the lost units:
    `l0`, `l1` = E[l_k | s0, s1], `l00`, `l11`, `l01` = E[l0^2 | .], E[l1^2 | .], E[l0 l1 | .]."""

    a: int
    mass: np.ndarray
    l0: np.ndarray
    l1: np.ndarray
    l00: np.ndarray
    l11: np.ndarray
    l01: np.ndarray


@lru_cache(maxsize=4096)
def period_table(a: int, c: int, lam: float, p: float) -> PeriodTable:
    """The DP over the period's orders, one at a time: a tier-0 order (probability p) is served when
    the on hand y > 0, a tier-1 order when y > c; a refused order adds one lost unit to its tier."""
    pmf = order_count_pmf(lam)
    k = np.arange(a + 1)
    y = a - k[:, None] - k[None, :]  # on hand in cell (s0, s1); < 0 on cells never reached
    serve0, serve1 = y > 0, y > c
    # stats[i]: the weighted sums M, M E[l0], M E[l1], M E[l0^2], M E[l1^2], M E[l0 l1] per cell
    X = np.zeros((6, a + 1, a + 1))
    X[0, 0, 0] = 1.0
    acc = pmf[0] * X
    for n in range(1, len(pmf)):
        new = np.zeros_like(X)
        # tier 0
        moved = p * X * serve0
        new[:, 1:, :] += moved[:, :-1, :]
        M, E0, E1, Q00, Q11, Q01 = p * X * ~serve0
        new += np.stack([M, E0 + M, E1, Q00 + 2 * E0 + M, Q11, Q01 + E1])
        # tier 1
        moved = (1 - p) * X * serve1
        new[:, :, 1:] += moved[:, :, :-1]
        M, E0, E1, Q00, Q11, Q01 = (1 - p) * X * ~serve1
        new += np.stack([M, E0, E1 + M, Q00, Q11 + 2 * E1 + M, Q01 + E0])
        X = new
        acc += pmf[n] * X
    mass = acc[0]
    safe = np.where(mass > 0, mass, 1.0)
    cond = [np.where(mass > 0, acc[i] / safe, 0.0) for i in range(1, 6)]
    return PeriodTable(a, mass, *cond)


def _states(S: int, L: int) -> tuple[list[tuple], dict]:
    """The states (x, p_0, ..., p_{L-1}) reachable from (S, 0, ..., 0), and their index."""
    start = (S,) + (0,) * L
    index, states = {start: 0}, [start]
    pos = 0
    while pos < len(states):
        for nxt in _successors(states[pos], S, L):
            if nxt not in index:
                index[nxt] = len(states)
                states.append(nxt)
        pos += 1
    return states, index


def _step(state: tuple, S: int, L: int) -> tuple[int, int, tuple]:
    """(a, q, rest): step-4 on hand, quantity ordered at the review, pipeline after the period."""
    x, *pipe = state
    q = max(S - x - sum(pipe), 0)
    if L == 0:
        return x + q, q, ()
    return x + pipe[0], q, tuple(pipe[1:]) + (q,)


def _successors(state: tuple, S: int, L: int):
    a, _, rest = _step(state, S, L)
    return [(a - s,) + rest for s in range(a + 1)]


@dataclass
class TierChain:
    """The exact chain of one policy: `states`, transition matrix `P`, stationary `pi`, per state
    the step-4 on hand `a`, the order indicator `ordered`, the period tables and next-state map."""

    S: int
    c: int
    lam: float
    p: float
    L: int
    states: list
    P: np.ndarray
    pi: np.ndarray
    a: np.ndarray
    ordered: np.ndarray
    tables: list
    successor: list  # successor[i][s] = index of the next state when s units are served
    _fundamental: tuple | None = field(default=None, repr=False)

    def mean_and_sd(self, state_term: np.ndarray, alpha: tuple[float, float], beta: tuple[float, float]):
        """Stationary mean mu and asymptotic sd per period of g_t = state_term[X_t] + alpha . (s0, s1)
        + beta . (l0, l1): the time average of P periods has standard error sd / sqrt(P)."""
        n = len(self.states)
        a0, a1 = alpha
        b0, b1 = beta
        cond_mean, cond_sq = [], []  # per state, per cell: E[g | x, s0, s1], E[g^2 | x, s0, s1]
        gx = np.zeros(n)
        for i, t in enumerate(self.tables):
            k = np.arange(t.a + 1)
            m = state_term[i] + a0 * k[:, None] + a1 * k[None, :] + b0 * t.l0 + b1 * t.l1
            var = (b0 * b0 * (t.l00 - t.l0**2) + b1 * b1 * (t.l11 - t.l1**2)
                   + 2 * b0 * b1 * (t.l01 - t.l0 * t.l1))
            cond_mean.append(m)
            cond_sq.append(m * m + var)
            gx[i] = float(np.sum(t.mass * m))
        mu = float(self.pi @ gx)
        gbar = gx - mu
        # h with (I - P + 1 pi) h = gbar: pi h = pi gbar = 0
        if self._fundamental is None:
            self._fundamental = lu_factor(np.eye(n) - self.P + np.outer(np.ones(n), self.pi))
        h = lu_solve(self._fundamental, gbar)
        second = 0.0
        cross = 0.0
        for i, t in enumerate(self.tables):
            m = cond_mean[i]
            second += self.pi[i] * float(np.sum(t.mass * (cond_sq[i] - 2 * mu * m + mu * mu)))
            k = np.arange(t.a + 1)
            s_tot = k[:, None] + k[None, :]
            h_next = np.where(s_tot <= t.a, h[self.successor[i][np.minimum(s_tot, t.a)]], 0.0)
            cross += self.pi[i] * float(np.sum(t.mass * (m - mu) * h_next))
        return mu, float(np.sqrt(max(second + 2 * cross, 0.0)))


@lru_cache(maxsize=4096)
def tier_chain(S: int, c: int, lam: float, p: float, L: int) -> TierChain:
    """Enumerate, build and solve the chain of base stock S, critical level c, lead time L."""
    S, c, L = int(S), int(c), int(L)
    if not (0 <= c and 0 <= S and L >= 0):
        raise ValueError("S, c, L must be >= 0")
    states, index = _states(S, L)
    n = len(states)
    P = np.zeros((n, n))
    a_arr = np.zeros(n, dtype=np.int64)
    ordered = np.zeros(n)
    tables, successor = [], []
    for i, st in enumerate(states):
        a, q, rest = _step(st, S, L)
        a_arr[i] = a
        ordered[i] = float(q > 0)
        t = period_table(a, c, float(lam), float(p))
        tables.append(t)
        k = np.arange(a + 1)
        by_total = np.bincount((k[:, None] + k[None, :]).ravel(), weights=t.mass.ravel(), minlength=2 * a + 1)[: a + 1]
        nxt = np.array([index[(a - s,) + rest] for s in range(a + 1)], dtype=np.int64)
        successor.append(nxt)
        np.add.at(P[i], nxt, by_total)
    # pi (P - I) = 0 with one balance equation replaced by sum(pi) = 1
    A = P.T - np.eye(n)
    A[-1, :] = 1.0
    pi = np.linalg.solve(A, np.r_[np.zeros(n - 1), 1.0])
    return TierChain(S, c, float(lam), float(p), L, states, P, pi, a_arr, ordered, tables, successor)


def exact_tiers(S: int, c: int, lam: float, p: float, L: int, *, h: float = 1.0,
                lost_sale: tuple[float, float] = (0.0, 0.0), order_cost: float = 0.0) -> dict:
    """Exact long-run figures of base stock S with critical level c (two tiers, tier 0 share p,
    lost sales, lead time L), named as simulation.evaluate's columns: t0_fill_rate, t1_fill_rate,
    fill_rate, avg_on_hand, orders_per_period, t0_/t1_demand_per_period, t0_/t1_lost_per_period,
    cost_carrying, cost_shortage, cost_ordering, cost_total; `lost_sale` is the cost per lost unit
    of each tier (costs.lost_sale + the tier's goodwill). Under key "sd", each figure's asymptotic
    standard deviation per period (a P-period average has standard error sd / sqrt(P))."""
    ch = tier_chain(S, c, lam, p, L)
    d0, d1 = lam * p, lam * (1 - p)
    a = ch.a.astype(float)
    zero = np.zeros(len(a))
    out, sd = {}, {}
    s0, sd_s0 = ch.mean_and_sd(zero, (1.0, 0.0), (0.0, 0.0))
    s1, _ = ch.mean_and_sd(zero, (0.0, 1.0), (0.0, 0.0))
    f0 = s0 / d0 if d0 > 0 else 1.0
    f1 = s1 / d1 if d1 > 0 else 1.0
    f = (s0 + s1) / lam
    if d0 > 0:
        sd["t0_fill_rate"] = ch.mean_and_sd(zero, (1.0 - f0, 0.0), (-f0, 0.0))[1] / d0
    if d1 > 0:
        sd["t1_fill_rate"] = ch.mean_and_sd(zero, (0.0, 1.0 - f1), (0.0, -f1))[1] / d1
    sd["fill_rate"] = ch.mean_and_sd(zero, (1.0 - f, 1.0 - f), (-f, -f))[1] / lam
    on_hand, sd["avg_on_hand"] = ch.mean_and_sd(a, (-1.0, -1.0), (0.0, 0.0))
    orders, sd["orders_per_period"] = ch.mean_and_sd(ch.ordered, (0.0, 0.0), (0.0, 0.0))
    k0, k1 = lost_sale
    shortage, sd["cost_shortage"] = ch.mean_and_sd(zero, (0.0, 0.0), (k0, k1))
    total, sd["cost_total"] = ch.mean_and_sd(h * a + order_cost * ch.ordered, (-h, -h), (k0, k1))
    sd["cost_carrying"] = h * sd["avg_on_hand"]
    sd["cost_ordering"] = order_cost * sd["orders_per_period"]
    out.update(
        t0_fill_rate=f0, t1_fill_rate=f1, fill_rate=f, avg_on_hand=on_hand, orders_per_period=orders,
        t0_demand_per_period=d0, t1_demand_per_period=d1,
        t0_lost_per_period=d0 - s0, t1_lost_per_period=d1 - s1,
        cost_carrying=h * on_hand, cost_shortage=shortage, cost_ordering=order_cost * orders,
        cost_total=total, sd=sd,
    )
    return out


def exact_cost(S: int, c: int, lam: float, p: float, L: int, h: float, lost_sale_0: float,
               lost_sale_1: float, order_cost: float = 0.0) -> float:
    """Expected cost per period: h E[end on hand] + sum_k lost_k E[lost_k] + order_cost P(order),
    from the stationary distribution (no variance)."""
    ch = tier_chain(S, c, lam, p, L)
    s0 = s1 = 0.0
    for w, t in zip(ch.pi, ch.tables):
        k = np.arange(t.a + 1)
        s0 += w * float(np.sum(t.mass * k[:, None]))
        s1 += w * float(np.sum(t.mass * k[None, :]))
    on_hand = float(ch.pi @ ch.a) - s0 - s1
    lost0, lost1 = lam * p - s0, lam * (1 - p) - s1
    return h * on_hand + lost_sale_0 * lost0 + lost_sale_1 * lost1 + order_cost * float(ch.pi @ ch.ordered)


def best_policy(lam: float, p: float, L: int, h: float, lost_sale_0: float, lost_sale_1: float, S_max: int,
                order_cost: float = 0.0) -> tuple[int, int, float]:
    """The exact-cost-minimising base stock and critical level, (S, c, cost per period), over
    0 <= c <= S <= S_max, by brute force over exact_cost (two tiers, tier 0 share p, Poisson(lam)
    unit orders, lost sales, lead time L, holding h per unit and period on the end-of-period on
    hand, lost_sale_k per unit lost of tier k, order_cost per replenishment order). Ties (costs
    within 1e-12 relative) go to the smaller S, then the smaller c. The reference for the optimiser's
    tier-aware search: compare its (S, critical_level) and cost with this one."""
    best = None
    for S in range(S_max + 1):
        for c in range(S + 1):
            cost = exact_cost(S, c, lam, p, L, h, lost_sale_0, lost_sale_1, order_cost)
            if best is None or cost < best[2] - 1e-12 * max(1.0, abs(best[2])):
                best = (S, c, float(cost))
    return best
