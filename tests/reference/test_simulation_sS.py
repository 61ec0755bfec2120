"""Reference: (s,S) with Poisson demand and backorders against the exact Markov-chain cost.

Periodic review every period, fixed lead time L, Poisson(lam) demand, order cost K, holding h per unit
on hand and backorder penalty p per unit of backlog per period (end of period). Let Y be the inventory
position after the review. Y lives on {s+1, ..., S}; from y, with demand k, the next review sees
y - k and orders up to S when y - k <= s:

    P(y -> y-k) = P(D = k)          for y - k > s
    P(y -> S)  += P(D >= y - s)

With pi the stationary distribution (solved below, not simulated) and X ~ Poisson(lam (L+1)) the
demand from the review up to the end of the period the order arrives in,

    cost per period = sum_y pi(y) [ K P(D >= y - s) + h E(y - X)^+ + p E(X - y)^+ ].

Continuous review (R = 0) with one customer order per period reviews right after that order, and
its order arrives in step 2 of t + max(L, 1): exactly the periodic chain with lead time L - 1 (L >= 1),
which the second test checks. Every exact cost must lie in the simulation's 95 % interval
(Bonferroni-widened over the pairs), and the chain with a lead time off by one must not.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import simulation
from tests.simulation.simpy_worlds import policies, scenario

LAM, H, P, K = 4.0, 1.0, 10.0, 20.0
PAIRS = [(3, 12), (6, 15), (8, 22), (1, 25)]
REPS = 8


def loss_terms(y: int, mean: float) -> float:
    """h E(y - X)^+ + p E(X - y)^+ for X ~ Poisson(mean)."""
    k = np.arange(0, int(mean + 40 * np.sqrt(mean) + 60))
    pmf = stats.poisson.pmf(k, mean)
    return float(H * np.sum(pmf * np.maximum(y - k, 0)) + P * np.sum(pmf * np.maximum(k - y, 0)))


def exact_sS_cost(s: int, S: int, lead: int) -> float:
    """Long-run cost per period of periodic (s,S), from the stationary distribution of the position."""
    states = np.arange(s + 1, S + 1)
    n = len(states)
    M = np.zeros((n, n))
    for a, y in enumerate(states):
        for k in range(0, y - s):  # y - k > s: no order
            M[a, y - k - (s + 1)] += stats.poisson.pmf(k, LAM)
        M[a, n - 1] += stats.poisson.sf(y - s - 1, LAM)  # P(D >= y - s): order up to S
    # pi M = pi, sum pi = 1
    A = np.vstack([M.T - np.eye(n), np.ones(n)])
    b = np.r_[np.zeros(n), 1.0]
    pi = np.linalg.lstsq(A, b, rcond=None)[0]
    mean_x = LAM * (lead + 1)
    per_state = [K * stats.poisson.sf(y - s - 1, LAM) + loss_terms(int(y), mean_x) for y in states]
    return float(pi @ np.array(per_state))


def simulate(review: int, lead: int):
    sc = scenario(
        horizon=dict(periods=1500, warmup=20),
        replications=REPS,
        transport=[dict(name="truck", lead_time=lead)],
        costs=dict(holding_per_unit_period=H, in_transit_rate=0.0, backorder_per_unit_period=P, order_cost=K),
        customer_reaction=dict(wait=1.0),
        sku=dict(demand={"dist": "poisson", "mean": LAM}),
    )
    pol = policies(*[dict(family="sS", s=s, S=S, R=review) for s, S in PAIRS])
    out = simulation.evaluate(sc, pol, engine="simpy")
    widen = stats.t.ppf(1 - 0.025 / len(PAIRS), REPS - 1) / stats.t.ppf(0.975, REPS - 1)
    return out["cost_total"].to_numpy(), widen * out["cost_total_ci"].to_numpy()


def check(cost, band, chain_lead):
    exact = np.array([exact_sS_cost(s, S, chain_lead) for s, S in PAIRS])
    assert np.all(np.abs(cost - exact) <= band), np.c_[cost, exact, band]
    for wrong in (chain_lead - 1, chain_lead + 1):
        if wrong < 0:
            continue
        off = np.array([exact_sS_cost(s, S, wrong) for s, S in PAIRS])
        rejected = np.abs(cost - off) > band
        assert rejected.sum() >= len(PAIRS) - 1, np.c_[cost, off, band]  # cost curves may cross at one pair


def test_reference_chain_reduces_to_base_stock():
    # (S-1, S) orders after every period with demand and keeps the position at S:
    # cost = K P(D >= 1) + newsvendor loss of S; checks the chain code, not the model
    for S in (5, 10, 14):
        expected = K * (1 - np.exp(-LAM)) + loss_terms(S, 2 * LAM)
        assert exact_sS_cost(S - 1, S, 1) == pytest.approx(expected, rel=1e-9)


def test_periodic_sS_matches_markov_chain():
    cost, band = simulate(review=1, lead=1)
    check(cost, band, chain_lead=1)


def test_continuous_sS_one_order_per_period_is_the_chain_with_one_period_less_lead_time():
    cost, band = simulate(review=0, lead=2)
    check(cost, band, chain_lead=1)
