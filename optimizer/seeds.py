"""Exact seeds where theory has them: for every SKU and way of replenishing (family, mode, review
period) the optimal policy of the nearest analytic model, so that the search starts at the optimum of
the textbook model instead of walking to it from EOQ lots (optimizer.candidates adds these rows to
the initial grid, optimizer.refine walks on from them with growing steps).

The algorithms (compiled with numba; `zheng_federgruen` and `federgruen_zheng` are the plain entry
points the reference tests check against brute force):

- (s, S): Zheng & Federgruen (1991), "Finding optimal (s, S) policies is about as simple as
  evaluating a single policy", Operations Research 39(4) 654-665. The cost of (s, S) is their (1) as
  given by (3) and (5): c(s, S) = [K + sum_{j=0}^{S-s-1} m(j) G(S - j)] / M(S - s), with the renewal
  quantities (2a)-(2c): m(0) = 1 / (1 - p_0), m(j) = sum_{l=1}^{j} p_l m(j - l) / (1 - p_0), M(j) =
  sum_{i<j} m(i). The search is the algorithm of their section 3 (p. 659): from the smallest
  minimiser y* of G, Step 0 lowers s until c(s, y*) <= G(s) (each step by their (6), c(s-1, S) =
  a_n c(s, S) + (1 - a_n) G(s), a_n = M(n) / M(n + 1), n = S - s); Step 1 raises S while G(S) <= c0
  (the bound of their Lemma 2(b)) and, whenever c(s, S) < c0, takes S and raises s while
  c(s, S) <= G(s + 1) (Lemma 3).
- (r, Q): Federgruen & Zheng (1992), "An efficient algorithm for computing an optimal (r, Q) policy
  in continuous review stochastic inventory systems", Operations Research 40(4) 808-813. Their (1)
  is C(r, Q) = [K lambda + sum_{y=r+1}^{r+Q} G(y)] / Q; for each Q the best r puts the window
  r+1..r+Q on the Q smallest values of G, built by their section 2 sequence y_Q (extend the window to
  the side with the smaller G, ties to the left), and Algorithm OPT (p. 811) stops at the first Q
  with C*(Q) <= G(y_{Q+1}). The engine reviews periodically and orders k lots at once (one fixed cost
  whatever k, docs/simulation.md), so its order rate is E[min(D, Q)] / Q per review, not
  lambda / Q: `federgruen_zheng` takes the expected orders per Q, a(Q), and stops when G(y_{Q+1}) is
  at least the best cost found so far (C(Q+1) is a weighted average of C(Q) and G(y_{Q+1}) +
  K (a(Q+1) - a(Q)) >= G(y_{Q+1}), and G(y_Q) never falls, so no later Q can be cheaper); with a
  constant order rate (the paper's model) this is exactly Algorithm OPT's stop.
- base stock: the smallest minimiser of G (for R <= 1 the newsvendor critical fractile p / (p + h)
  of the protection-period demand).

The model (periodic review with backorders, the timing of docs/simulation.md, which
tests/reference/test_simulation_sS.py checks against the engine):

- one model period is one review period R; under continuous review (R = 0) one period, reviewed after
  the period's demand, which for one customer order per period is periodic review with lead time
  max(L, 1) - 1;
- demand per model period: the SKU's mean and variance per period times max(R, 1); Poisson when not
  over-dispersed, else negative binomial by moments (as optimizer.candidates._quantiles); normal by
  moments only beyond half a million units of spread;
- G(y), the expected holding and shortage cost of the periods one order covers:
  sum_{j=1}^{R} h E(y - X_j)^+ + p E(X_j - y)^+, X_j the demand over L + j periods (R = 0: one term,
  max(L, 1) periods), L the lead time's mean; a random lead time adds mean^2 Var(L) to X_j's variance;
- h = holding + warehousing per unit per period; p = the shortage cost per unit of
  optimizer.candidates.critical_fractile (reaction-weighted: waiting customers cost
  backorder_per_unit + backorder_per_unit_period, substituted and lost units their costs), charged
  per unit short at a period's end. With waiting customers and no per-unit charge this is the
  backorder model exactly; for lost sales it is the usual approximation (the backorder model with the
  lost-sale cost as the penalty per unit short, the newsvendor's p / (p + h)), close when a shortage
  rarely outlives a period;
- K = order_cost + one vehicle's cost_per_shipment per order (vehicle capacity ignored).

Big numbers: the model is solved in units of u (u = 1 unless the lot or four standard deviations of
the protection-period demand exceed GRID_SPAN units), its demand totals binned to multiples of u,
and the result scaled back.
"""

from __future__ import annotations

import math

import numba
import numpy as np

GRID_SPAN = 100  # whole units per grid step grow once the lot or the demand spread exceeds this many
MAX_RANGE = 20000  # grid points searched at most on each side of the minimiser of G
NORMAL_SPREAD = 400000  # whole units of spread (24 sd) above which a demand total is taken as normal


# --------------------------------------------------------------------------- demand totals
@numba.njit(cache=True)
def _binned_pmf(mean, var, u):  # pragma: no cover - compiled; tested through the entry points
    """(k0, pmf): P(round(X / u) = k) for k = k0, k0 + 1, ...; X an integer demand total with this
    mean and variance (Poisson, or negative binomial when var > mean; normal for a huge spread),
    bins of u whole units centred on multiples of u, renormalised over mean +- 12 sd."""
    sd = math.sqrt(max(var, mean))
    x_lo = max(0, int(math.floor(mean - 12.0 * sd - 10.0)))
    x_hi = int(math.ceil(mean + 12.0 * sd + 10.0))
    half = u // 2
    k0 = (x_lo + half) // u
    k1 = (x_hi + half) // u
    out = np.zeros(k1 - k0 + 1)
    if x_hi - x_lo > NORMAL_SPREAD:
        root2 = math.sqrt(2.0)
        for k in range(k0, k1 + 1):
            a = k * u - half - 0.5
            out[k - k0] = 0.5 * (math.erfc((a - mean) / (sd * root2)) - math.erfc((a + u - mean) / (sd * root2)))
    else:
        poisson = var <= mean * (1.0 + 1e-9)
        x0 = min(max(int(mean), x_lo), x_hi)
        if poisson:
            lp = x0 * math.log(mean) - mean - math.lgamma(x0 + 1.0)
            r, q = 0.0, 0.0
        else:
            r = mean * mean / (var - mean)
            q = mean / (r + mean)  # failure probability of the negative binomial (r, 1 - q)
            lp = math.lgamma(x0 + r) - math.lgamma(r) - math.lgamma(x0 + 1.0) + r * math.log(1.0 - q) + x0 * math.log(q)
        p0 = math.exp(lp)
        v = p0
        for x in range(x0, x_hi + 1):  # upwards: p(x + 1) = p(x) * ratio(x)
            out[(x + half) // u - k0] += v
            v *= mean / (x + 1.0) if poisson else (x + r) / (x + 1.0) * q
        v = p0
        for x in range(x0 - 1, x_lo - 1, -1):  # downwards: p(x) = p(x + 1) / ratio(x)
            v *= (x + 1.0) / mean if poisson else (x + 1.0) / ((x + r) * q)
            out[(x + half) // u - k0] += v
    total = out.sum()
    if total > 0:
        out /= total
    return k0, out


@numba.njit(cache=True)
def _loss_tables(pmfs_k0, pmfs):  # pragma: no cover - compiled
    """Per demand total j: its mean and the tail sums T0[j, i] = P(X > k0 + i), T1[j, i] =
    E[X; X > k0 + i], so that E(X - y)^+ = T1 - y T0 on the table (y = k0 + i)."""
    J, width = pmfs.shape
    means = np.zeros(J)
    T0 = np.zeros((J, width))
    T1 = np.zeros((J, width))
    for j in range(J):
        k0 = pmfs_k0[j]
        t0 = 0.0
        t1 = 0.0
        for i in range(width - 1, -1, -1):
            T0[j, i] = t0
            T1[j, i] = t1
            t0 += pmfs[j, i]
            t1 += (k0 + i) * pmfs[j, i]
        means[j] = t1
    return means, T0, T1


@numba.njit(cache=True)
def _G_at(y, h, p, k0s, means, T0, T1):  # pragma: no cover - compiled
    """G(y) = sum_j h E(y - X_j)^+ + p E(X_j - y)^+ = sum_j h (y - mean_j) + (h + p) E(X_j - y)^+."""
    width = T0.shape[1]
    g = 0.0
    for j in range(k0s.shape[0]):
        i = y - k0s[j]
        if i < 0:
            loss = means[j] - y
        elif i >= width:
            loss = 0.0
        else:
            loss = T1[j, i] - y * T0[j, i]
        g += h * (y - means[j]) + (h + p) * loss
    return g


# --------------------------------------------------------------------------- the algorithms
@numba.njit(cache=True)
def _renewal(pmf, n):  # pragma: no cover - compiled
    """m(0..n-1) of Zheng & Federgruen (2a)-(2b): m(0) = 1/(1 - p_0), m(j) = sum_{l=1}^{j} p_l
    m(j - l) / (1 - p_0); pmf[l] = P(D = l) of one model period's demand."""
    m = np.zeros(n)
    top = 1.0 - pmf[0]
    m[0] = 1.0 / top
    last = pmf.shape[0] - 1
    low = 1
    while low <= last and pmf[low] == 0.0:  # demand totals start far from 0: skip the empty head
        low += 1
    for j in range(low, n):
        acc = 0.0
        for l in range(low, min(j, last) + 1):
            acc += pmf[l] * m[j - l]
        m[j] = acc / top
    return m


@numba.njit(cache=True)
def _zf_cost(s, S, G, lo, m, M, K):  # pragma: no cover - compiled
    """c(s, S) = [K + sum_{j=0}^{S-s-1} m(j) G(S - j)] / M(S - s) (Zheng & Federgruen (1), (3), (5))."""
    acc = K
    for j in range(S - s):
        acc += m[j] * G[S - j - lo]
    return acc / M[S - s]


@numba.njit(cache=True)
def _zheng_federgruen(G, lo, ystar, m, K):  # pragma: no cover - compiled
    """Zheng & Federgruen section 3 (p. 659) on G over lo .. lo + len(G) - 1; returns (s, S, c, ok),
    ok False when the search reached an end of G's range (then the result is not to be used)."""
    n = G.shape[0]
    M = np.zeros(n + 1)
    for j in range(n):
        M[j + 1] = M[j] + m[j]
    # Step 0: s := y* - 1, lowered (by (6)) until c(s, y*) <= G(s).
    S0 = ystar
    s = ystar - 1
    c = _zf_cost(s, S0, G, lo, m, M, K)
    while c > G[s - lo]:
        if s - 1 < lo:
            return s, S0, c, False  # G's range is too narrow
        a = M[S0 - s] / M[S0 - s + 1]
        c = a * c + (1.0 - a) * G[s - lo]
        s -= 1
    c0 = _zf_cost(s, S0, G, lo, m, M, K)  # recomputed exactly (no drift from the recursion)
    # Step 1: while G(S) <= c0, a better S moves s up until c(s, S0) > G(s + 1).
    S = S0 + 1
    while S - lo < n and G[S - lo] <= c0:
        if _zf_cost(s, S, G, lo, m, M, K) < c0:
            S0 = S
            while s + 1 < S0 and _zf_cost(s, S0, G, lo, m, M, K) <= G[s + 1 - lo]:
                s += 1
            c0 = _zf_cost(s, S0, G, lo, m, M, K)
        S += 1
    return s, S0, c0, S - lo < n  # S at the end of G's range: too narrow


@numba.njit(cache=True)
def _federgruen_zheng(G, lo, ystar, orders, K):  # pragma: no cover - compiled
    """Federgruen & Zheng's window sequence (section 2) and stop (Algorithm OPT, p. 811, with the best
    cost so far): C(r, Q) = [K a(Q) + sum_{y=r+1}^{r+Q} G(y)] / Q, orders[Q] = a(Q) the expected
    orders per model period times Q; returns (r, Q, C, ok), ok False when the window reached an end
    of G's range or of `orders`."""
    n = G.shape[0]
    left = ystar
    right = ystar
    total = G[ystar - lo]
    Q = 1
    best = (K * orders[1] + total) / 1.0
    best_r = ystar - 1
    best_Q = 1
    while True:
        if left - 1 < lo or right + 1 >= lo + n:
            return best_r, best_Q, best, False
        if G[left - 1 - lo] <= G[right + 1 - lo]:
            nxt = left - 1
        else:
            nxt = right + 1
        g = G[nxt - lo]
        if g >= best:
            break
        if nxt < left:
            left = nxt
        else:
            right = nxt
        total += g
        Q += 1
        if Q >= orders.shape[0]:
            return best_r, best_Q, best, False
        cost = (K * orders[Q] + total) / Q
        if cost < best:
            best = cost
            best_r = left - 1
            best_Q = Q
    return best_r, best_Q, best, True


@numba.njit(cache=True)
def _solve_way(review_mean, review_var, prot_means, prot_vars, u, h, p, K):  # pragma: no cover - compiled
    """Everything for one way on the grid of u units: (y*, s, S, c_sS, r, Q, c_rQ) in grid units."""
    J = prot_means.shape[0]
    k0s = np.zeros(J, dtype=np.int64)
    parts = []
    width = 1
    for j in range(J):
        k0, pmf = _binned_pmf(prot_means[j], prot_vars[j], u)
        k0s[j] = k0
        parts.append(pmf)
        width = max(width, pmf.shape[0])
    pmfs = np.zeros((J, width))
    for j in range(J):
        pmfs[j, : parts[j].shape[0]] = parts[j]
    means, T0, T1 = _loss_tables(k0s, pmfs)
    hs, ps = h * u, p * u  # cost per grid unit
    # the smallest minimiser of the convex G lies within the demand totals' range
    ystar = k0s.min() - 1
    gbest = _G_at(ystar, hs, ps, k0s, means, T0, T1)
    for y in range(k0s.min(), k0s.max() + width + 1):
        g = _G_at(y, hs, ps, k0s, means, T0, T1)
        if g < gbest:
            gbest = g
            ystar = y
    rk0, rpmf = _binned_pmf(review_mean, review_var, u)
    dlen = rk0 + rpmf.shape[0]
    pmf = np.zeros(dlen)
    pmf[rk0:] = rpmf
    if pmf[0] > 1.0 - 1e-12:
        return ystar, ystar - 1, ystar, np.inf, ystar - 1, 1, np.inf
    # Every position the two searches visit has G(y) <= K (1 - p_0) + G(y*) = c(y* - 1, y*) =
    # C(y* - 1, 1), the cost of ordering whenever anything was sold (both searches start there and
    # never exceed it). That interval is wide when K is large against h (K / h units): the grid is
    # first the interval below G(y*) + a few times the EOQ cost sqrt(2 K h D), and grows only when a
    # search reaches its end. A search that never reaches an end read only values inside, so its
    # result is the one the whole interval would give.
    full = K * (1.0 - pmf[0])
    excess = min(full, 3.0 * math.sqrt(2.0 * K * hs * review_mean / u) + 10.0 * hs * J)
    while True:
        bound = gbest + excess
        a = ystar
        while a > ystar - MAX_RANGE and _G_at(a - 1, hs, ps, k0s, means, T0, T1) <= bound:
            a -= 1
        b = ystar
        while b < ystar + MAX_RANGE and _G_at(b + 1, hs, ps, k0s, means, T0, T1) <= bound:
            b += 1
        lo = a - 2
        n = b - a + 5
        G = np.empty(n)
        for i in range(n):
            G[i] = _G_at(lo + i, hs, ps, k0s, means, T0, T1)
        m = _renewal(pmf, n)
        s, S, c_sS, ok_sS = _zheng_federgruen(G, lo, ystar, m, K)
        # a(Q) = E[min(D, Q)] = sum_{k<Q} P(D > k): the engine's orders per review times Q
        orders = np.zeros(n + 1)
        tail = 1.0
        for k in range(n):
            tail -= pmf[k] if k < dlen else 0.0
            orders[k + 1] = orders[k] + max(tail, 0.0)
        r, Q, c_rQ, ok_rQ = _federgruen_zheng(G, lo, ystar, orders, K)
        if (ok_sS and ok_rQ) or excess >= full:
            break
        excess = min(full, 4.0 * excess)
    if not ok_sS:
        c_sS = np.inf
    if not ok_rQ:
        c_rQ = np.inf
    return ystar, s, S, c_sS, r, Q, c_rQ


# --------------------------------------------------------------------------- plain entry points
def renewal_density(pmf: np.ndarray, n: int) -> np.ndarray:
    """m(0..n-1) of Zheng & Federgruen (2a)-(2b) for one period's demand pmf (pmf[l] = P(D = l))."""
    return _renewal(np.asarray(pmf, dtype=float), int(n))


def zheng_federgruen(G: np.ndarray, lo: int, pmf: np.ndarray, K: float) -> tuple[int, int, float]:
    """The optimal (s, S) and its cost per period for G given on lo .. lo + len(G) - 1 (wide enough to
    hold every y with G(y) <= c(y* - 1, y*) and one point either side), one period's demand pmf and
    the fixed cost K > 0 (Zheng & Federgruen 1991, section 3)."""
    G = np.ascontiguousarray(G, dtype=float)
    ystar = int(lo) + int(np.argmin(G))
    m = _renewal(np.asarray(pmf, dtype=float), len(G))
    s, S, c, ok = _zheng_federgruen(G, int(lo), ystar, m, float(K))
    if not ok:
        raise ValueError("G's range is too narrow for the Zheng-Federgruen search")
    return int(s), int(S), float(c)


def federgruen_zheng(G: np.ndarray, lo: int, orders: np.ndarray, K: float) -> tuple[int, int, float]:
    """The optimal (r, Q) of C(r, Q) = [K a(Q) + sum_{y=r+1}^{r+Q} G(y)] / Q and its cost, G given on
    lo .. lo + len(G) - 1; orders[Q] = a(Q) for Q = 0, 1, ... (the paper's model: a(Q) = lambda for
    every Q >= 1; the engine's periodic review: E[min(D, Q)]) (Federgruen & Zheng 1992)."""
    G = np.ascontiguousarray(G, dtype=float)
    ystar = int(lo) + int(np.argmin(G))
    r, Q, c, ok = _federgruen_zheng(G, int(lo), ystar, np.asarray(orders, dtype=float), float(K))
    if not ok:
        raise ValueError("G's range (or orders) is too short for the Federgruen-Zheng search")
    return int(r), int(Q), float(c)


def solve_way(mean: float, var: float, lead_mean: float, lead_var: float, R: int, h: float, p: float,
              K: float, lot_hint: float = 0.0) -> dict | None:
    """The analytic optima of one way (per-period demand mean and variance, lead time mean and
    variance in periods, review period R, costs h, p per unit per period and K per order), in whole
    units: base_stock (y*), sS (s, S) and rQ (r, Q) with their model costs per period (the model
    period's cost / max(R, 1)); None when the model has no optimum (no demand, no holding or no
    shortage cost). lot_hint: a lot size of the right order (the EOQ) for choosing the grid."""
    if not (mean > 0 and h > 0 and p > 0 and K >= 0 and math.isfinite(mean + var + h + p + K)):
        return None
    periods = max(R, 1)
    covers = [max(lead_mean, 1.0)] if R == 0 else [lead_mean + j for j in range(1, R + 1)]
    prot_means = np.array([mean * c for c in covers], dtype=float)
    prot_vars = np.array([var * c + mean * mean * lead_var for c in covers], dtype=float)
    # the grid resolves the lot and the protection demand's spread (the demand per review itself
    # needs no resolution: a total far from 0 only shifts its pmf)
    spread = max(lot_hint, 4.0 * math.sqrt(max(prot_vars.max(), prot_means.max())))
    u = max(1, int(math.ceil(spread / GRID_SPAN)))
    K = max(K, 1e-9 * h * u)  # K = 0: order every time (the limit of tiny K), kept positive for (2a)-(5)
    ystar, s, S, c_sS, r, Q, c_rQ = _solve_way(float(mean * periods), float(var * periods), prot_means, prot_vars,
                                               int(u), float(h), float(p), float(K))
    if not (math.isfinite(c_sS) and math.isfinite(c_rQ)):
        return None
    return dict(base_stock=int(ystar) * u, s=int(s) * u, S=int(S) * u, cost_sS=float(c_sS) / periods,
                r=int(r) * u, Q=int(Q) * u, cost_rQ=float(c_rQ) / periods, unit=u)


# --------------------------------------------------------------------------- the scenario's side
def shortage_cost(scenario, sku) -> float:
    """Expected shortage cost per unit short, the customer reactions weighted: waiting customers cost
    backorder_per_unit + backorder_per_unit_period, substituted and lost units their costs (the p of
    the critical fractile p / (p + h), charged by the seed model per unit short at a period's end)."""
    c, r = scenario.costs, scenario.customer_reaction
    return float(r.wait * (c.backorder_per_unit + c.backorder_per_unit_period)
                 + r.substitute * scenario.substitution_per_unit(sku) + r.lost_sale * scenario.lost_sale_per_unit(sku))


def way_optimum(scenario, sku, mode, R: int) -> dict | None:
    """solve_way for one SKU, transport mode and review period, with the scenario's costs (module
    docstring): h = holding + warehousing per unit per period, p = shortage_cost, K = order_cost +
    the mode's cost_per_shipment. None when the model has no optimum."""
    from scenarios.schema import dist_mean, dist_var

    if sku.demand is None:
        return None
    mu, var = dist_mean(sku.demand), dist_var(sku.demand)
    h = scenario.holding_per_unit_period(sku) + scenario.costs.warehousing.per_unit_period
    K = scenario.costs.order_cost + mode.cost_per_shipment
    eoq = math.sqrt(2 * K * mu / h) if h > 0 and K > 0 and mu > 0 else 0.0
    return solve_way(mu, var, dist_mean(mode.lead_time), dist_var(mode.lead_time), int(R), h,
                     shortage_cost(scenario, sku), K, eoq)


def round_lot(q: float, moq: int, pack: int) -> int:
    """A lot as the engine orders it: at least the MOQ (and 1), whole packs."""
    return int(math.ceil(max(q, moq, 1) / pack - 1e-9) * pack)


def seed_rows(scenario, sku, family: str, mode, R: int, optimum: dict | None, backlog: bool,
              spread: float = 0.0) -> list[tuple]:
    """Candidate rows (sku, family, mode, s, S, Q, R, cap) of one way from its analytic optimum: the
    optimum itself (lots rounded to the MOQ and whole packs, levels at least 0 without a backlog)
    and, when spread > 0 and the family has a lot, the same lot with the reorder level `spread` units
    lower and higher (a hedge on the model's shortage cost: the lot is the part the seed gets
    right). Base stock gets y* alone; capped base stock has no seed."""
    if optimum is None or family == "capped_base_stock":
        return []
    pol = scenario.policies
    low = -math.inf if backlog else 0.0
    nan = float("nan")
    if family in ("base_stock", "RS"):
        return [(sku.id, family, mode.name, nan, float(max(optimum["base_stock"], 0)), nan, R, nan)]
    if family == "rQ":
        lot, level = round_lot(optimum["Q"], pol.moq, pol.pack_size), optimum["r"]
    else:
        lot, level = round_lot(optimum["S"] - optimum["s"], pol.moq, pol.pack_size), optimum["s"]
    step = int(round(spread))
    rows = []
    for s in ((level, level - step, level + step) if step >= 1 else (level,)):
        s = float(max(s, low, -lot if family == "rQ" else -math.inf))  # rQ: s + Q >= 0 (the start)
        row = ((sku.id, family, mode.name, s, nan, float(lot), R, nan) if family == "rQ"
               else (sku.id, family, mode.name, s, s + lot, nan, R, nan))
        if row not in rows:
            rows.append(row)
    return rows


def way_cost(scenario, sku, family: str, mode, optimum: dict | None) -> float:
    """The analytic model's cost per period of a way's optimum plus what the way adds whatever the
    policy (transport per unit and pipeline carrying of the mean demand over the mean lead time):
    the ranking that picks the way whose seed gets the hedging rows (inf without an optimum)."""
    from scenarios.schema import dist_mean

    if optimum is None:
        return math.inf
    mu = dist_mean(sku.demand)
    fixed = mu * mode.cost_per_unit + scenario.in_transit_per_unit_period(sku) * mu * dist_mean(mode.lead_time)
    return (optimum["cost_rQ"] if family == "rQ" else optimum["cost_sS"]) + fixed
