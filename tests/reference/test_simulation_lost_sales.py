"""Reference: fill rate of a lost-sales base-stock (and capped base-stock) policy, exact long run.

Periodic review every period, fixed lead time L, Poisson(lam) demand, every short unit lost, partial
shipments. The state at the start of a period is (x, p_0, ..., p_{L-1}): on hand and the orders
arriving in steps 2 of t, t+1, ..., t+L-1. The period, exactly as docs/simulation.md orders it:

    review:   q = S - (x + sum p)            (capped: min(q, cap); no backlog under lost sales)
    receive:  a = x + p_0  (+ q when L = 0)
    demand:   filled = min(a, D), x' = a - filled,  next pipeline (p_1, ..., p_{L-1}, q)

The chain is enumerated from the starting state (x = S, empty pipeline), its stationary distribution
pi solved, and

    fill_rate   = sum_state pi E[min(a, D)] / lam,
    avg_on_hand = sum_state pi E[(a - D)^+].

The simulated fill rate and average on hand must hold the exact values inside their 95 % intervals
(Bonferroni over the candidates); the chain with lead time L-1 or L+1 must fall outside.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats
from scipy.sparse.linalg import spsolve

import simulation
from tests.simulation.simpy_worlds import policies, scenario

LAM, L = 4.0, 2
CANDIDATES = [(9, None), (12, None), (15, None), (13, 6)]  # (S, cap)
REPS = 8
PMF = stats.poisson.pmf(np.arange(200), LAM)  # P(D = k); the tail beyond 200 is below 1e-100
SF = 1.0 - np.concatenate([[0.0], np.cumsum(PMF)])  # SF[a] = P(D >= a)


def exact_lost_sales(S: int, cap: int | None, lead: int) -> tuple[float, float]:
    """(fill rate, average end-of-period on hand) of base stock S (capped at cap) under lost sales."""
    start = (S,) + (0,) * lead
    index, states, rows = {start: 0}, [start], []
    pos = 0
    while pos < len(states):
        x, *pipe = states[pos]
        q = S - x - sum(pipe)
        if cap is not None:
            q = min(q, cap)
        q = max(q, 0)
        pipe = pipe + [q]
        a = x + pipe[0]
        rest = tuple(pipe[1:])
        pmf = PMF[:a]
        outcomes = [(a - k, p) for k, p in enumerate(pmf)] + [(0, SF[a])]
        filled = float(np.sum(np.arange(a) * pmf) + a * SF[a])
        left = float(np.sum((a - np.arange(a)) * pmf))
        row = {}
        for x_next, p in outcomes:
            nxt = (x_next,) + rest
            if nxt not in index:
                index[nxt] = len(states)
                states.append(nxt)
            row[index[nxt]] = row.get(index[nxt], 0.0) + p
        rows.append((row, filled, left))
        pos += 1
    n = len(states)
    i_idx = [i for i, (row, _, _) in enumerate(rows) for _ in row]
    j_idx = [j for row, _, _ in rows for j in row]
    vals = [p for row, _, _ in rows for p in row.values()]
    M = sparse.csr_matrix((vals, (i_idx, j_idx)), shape=(n, n))
    # pi (M - I) = 0 with one balance equation replaced by sum(pi) = 1
    A = (M.T - sparse.identity(n)).tolil()
    A[n - 1, :] = np.ones(n)
    pi = spsolve(A.tocsc(), np.r_[np.zeros(n - 1), 1.0])
    filled = np.array([r[1] for r in rows])
    left = np.array([r[2] for r in rows])
    return float(pi @ filled / LAM), float(pi @ left)


def test_lost_sales_base_stock_fill_rate_is_exact():
    sc = scenario(
        horizon=dict(periods=1500, warmup=20),
        replications=REPS,
        transport=[dict(name="truck", lead_time=L)],
        customer_reaction=dict(wait=0.0, substitute=0.0, lost_sale=1.0),
        sku=dict(demand={"dist": "poisson", "mean": LAM}),
    )
    rows = [dict(family="base_stock", S=S, R=1) if cap is None else dict(family="capped_base_stock", S=S, cap=cap, R=1)
            for S, cap in CANDIDATES]
    out = simulation.evaluate(sc, policies(*rows), engine="simpy")
    widen = stats.t.ppf(1 - 0.025 / (2 * len(CANDIDATES)), REPS - 1) / stats.t.ppf(0.975, REPS - 1)
    fill, fill_band = out["fill_rate"].to_numpy(), widen * out["fill_rate_ci"].to_numpy()
    on_hand, on_hand_band = out["avg_on_hand"].to_numpy(), widen * out["avg_on_hand_ci"].to_numpy()
    exact = np.array([exact_lost_sales(S, cap, L) for S, cap in CANDIDATES])
    assert np.all(np.abs(fill - exact[:, 0]) <= fill_band), np.c_[fill, exact[:, 0], fill_band]
    assert np.all(np.abs(on_hand - exact[:, 1]) <= on_hand_band), np.c_[on_hand, exact[:, 1], on_hand_band]
    assert np.allclose(out["lost_sales_rate"], 1 - out["fill_rate"])
    assert (out["backorder_rate"] == 0).all()
    for wrong in (L - 1, L + 1):
        off = np.array([exact_lost_sales(S, cap, wrong)[0] for S, cap in CANDIDATES])
        assert np.all(np.abs(fill - off) > fill_band), np.c_[fill, off, fill_band]


def test_reference_chain_with_zero_lead_time_is_the_newsvendor():
    # L = 0: the order arrives before the demand, so a = S every period: fill = E[min(S, D)] / lam
    for S in (3, 6, 10):
        k = np.arange(200)
        assert abs(exact_lost_sales(S, None, 0)[0] - np.sum(np.minimum(k, S) * PMF) / LAM) < 1e-12
