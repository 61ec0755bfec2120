"""Reference: where a replication starts (simulation.start, docs/simulation.md step 0) against the
exact transient of an (r, Q) system.

Continuous review (r, Q), unit customer orders arriving Poisson(LAM) per period, fixed lead time L,
every customer waits (backorders). The inventory position IP (on hand + on order - backlog) moves
as a cyclic walk on r+1 .. r+Q: each unit ordered lowers it by one, and at r it orders Q. Per
period, from y with k units ordered: y' = r + 1 + ((y - k - r - 1) mod Q). A replication starts
with IP0 on hand and nothing on order, so (no order is placed before period 0, an order placed in
period t arrives in period t + L) the net inventory at the end of period t >= L - 1 is
IP(end of t - L) - X, X ~ Poisson(LAM L) the demand of periods t-L+1 .. t, independent of the
position (IP(end of -1) = IP0). With p_t the exact distribution of IP at the end of period t
(p_{-1} the start distribution, propagated through the walk's transition matrix), the expected
on hand at the end of period t is sum_y p_{t-L}(y) E(y - X)+, the expected backlog
sum_y p_{t-L}(y) E(X - y)+. The long run has p uniform on r+1 .. r+Q (Zipkin 2000, ch. 6).

The engine's spread start puts replication j (0-based) of n at IP0 = r + ceil(f_j Q),
f_j = (j + 1/2) / n; its full start at r + Q. Both are computed here from their definitions,
independently of simulation.start. Over a counted horizon shorter than one cycle the two starts
differ by far more than the simulation's noise, and the engine must match the exact transient of
the start it claims (Z = 4.5 standard errors of the replications' mean). The same exact transient
shows that the engine's spread rule (simulation.start, read here) starts near the long run where
the full start does not, with and without an MOQ above the lot.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulation
from simulation.counters import INDEX
from simulation.kernel import simulate_sku
from simulation.policy_arrays import FAMILY_CODE, policy_arrays
from simulation.start import replication_start, start_on_hand
from tests.simulation.simpy_worlds import policies, scenario

LAM, L, r, Q = 3.0, 2, 4, 30  # a cycle is Q / LAM = 10 periods
WARMUP, PERIODS, REPS = L, 6, 64
Z = 4.5


def start_positions(start: str) -> np.ndarray:
    if start == "full":
        return np.full(REPS, r + Q)
    return np.array([r + math.ceil((j + 0.5) / REPS * Q) for j in range(REPS)])


def walk_matrix() -> np.ndarray:
    """P[a, b]: position r+1+a at the end of a period -> r+1+b at the end of the next."""
    P = np.zeros((Q, Q))
    kmax = int(LAM + 40 * math.sqrt(LAM) + 40)
    pmf = stats.poisson.pmf(np.arange(kmax), LAM)
    for a in range(Q):
        for k, w in enumerate(pmf):
            P[a, (a - k) % Q] += w
    return P


def exact_on_hand_and_backlog(p0: np.ndarray) -> tuple[float, float]:
    """Mean on hand and backlog per counted period (t = WARMUP .. WARMUP+PERIODS-1) from the start
    distribution p0 over r+1 .. r+Q."""
    P = walk_matrix()
    y = np.arange(r + 1, r + Q + 1)
    x = np.arange(0, int(LAM * L + 40 * math.sqrt(LAM * L) + 40))
    px = stats.poisson.pmf(x, LAM * L)
    pos = np.array([np.sum(px * np.maximum(v - x, 0)) for v in y])
    neg = np.array([np.sum(px * np.maximum(x - v, 0)) for v in y])
    p = {-1: p0}
    for t in range(0, WARMUP + PERIODS):
        p[t] = p[t - 1] @ P
    on_hand = np.mean([p[t - L] @ pos for t in range(WARMUP, WARMUP + PERIODS)])
    backlog = np.mean([p[t - L] @ neg for t in range(WARMUP, WARMUP + PERIODS)])
    return float(on_hand), float(backlog)


def distribution(positions: np.ndarray) -> np.ndarray:
    return np.bincount(positions - (r + 1), minlength=Q) / len(positions)


def world(start: str):
    return scenario(
        horizon=dict(periods=PERIODS, warmup=WARMUP, start=start), replications=REPS,
        transport=[dict(name="truck", lead_time=L)], customer_reaction=dict(wait=1.0),
        sku=dict(demand={"dist": "compound", "orders": {"dist": "poisson", "mean": LAM}, "size": 1}),
    )


def engine_means(start: str) -> dict:
    sc = world(start)
    arrays = policy_arrays(sc, policies(dict(family="rQ", s=r, Q=Q, R=0)))
    raw = simulate_sku(sc, sc.skus[0], arrays, REPS, sc.seed)[0]  # [replications, counters]
    out = {}
    for name in ("on_hand_sum", "backlog_sum"):
        per_rep = raw[:, INDEX[name]] / PERIODS
        out[name] = (per_rep.mean(), per_rep.std(ddof=1) / math.sqrt(REPS))
    return out


@pytest.mark.parametrize("start", ["spread", "full"])
def test_engine_matches_the_exact_transient_of_its_start(start):
    exact = dict(zip(("on_hand_sum", "backlog_sum"), exact_on_hand_and_backlog(distribution(start_positions(start)))))
    other = "full" if start == "spread" else "spread"
    wrong = dict(zip(("on_hand_sum", "backlog_sum"), exact_on_hand_and_backlog(distribution(start_positions(other)))))
    for name, (mean, se) in engine_means(start).items():
        assert abs(mean - exact[name]) <= Z * se, (start, name, mean, exact[name], se)
    on_hand, se = engine_means(start)["on_hand_sum"]
    assert abs(on_hand - wrong["on_hand_sum"]) > Z * se  # the other start is far off: the test has power


def engine_positions(start: str, reps: int, moq: int = 0, pack: int = 1, lot: int = Q) -> np.ndarray:
    """Start positions by the engine's own rule (simulation.start), as the cycle position r + 1 .. r + W."""
    rq = FAMILY_CODE["rQ"]
    return np.array([start_on_hand(rq, r, 0, lot, moq, pack, replication_start(start, j, reps)) for j in range(reps)])


@pytest.mark.parametrize("reps", [1, 2, 5, 10, 20, 64])
def test_the_engines_spread_start_is_near_the_long_run_where_the_full_start_is_not(reps):
    stationary = exact_on_hand_and_backlog(np.full(Q, 1.0 / Q))
    spread = exact_on_hand_and_backlog(distribution(engine_positions("spread", reps)))
    full = exact_on_hand_and_backlog(distribution(engine_positions("full", reps)))
    # One or two starts cannot stand for the whole cycle over a horizon this short: closer than
    # the full start; from 5 replications within 10 % of its error, from 10 within 1 %.
    share = 1.0 if reps <= 2 else 0.1 if reps < 10 else 0.01
    for k in range(2):
        assert abs(spread[k] - stationary[k]) < share * abs(full[k] - stationary[k]), (reps, k, spread, full, stationary)


def test_the_spread_start_covers_the_lot_an_moq_forces():
    # Q 10 raised to an MOQ of 30: the buyer's lot, and so the cycle, is 30 units (r + 1 .. r + 30)
    assert engine_positions("spread", 30, moq=30, lot=10).tolist() == list(range(r + 1, r + 31))
    # and to whole packs of 8 (32 units)
    assert engine_positions("spread", 32, moq=30, pack=8, lot=10).tolist() == list(range(r + 1, r + 33))


def test_simpy_equals_kernel_with_the_spread_start():
    sc = world("spread")
    pol = policies(dict(family="rQ", s=r, Q=Q, R=0), dict(family="sS", s=r, S=r + 17, R=0),
                   dict(family="sS", s=-3, S=9, R=1), dict(family="base_stock", S=9, R=0))
    kernel = simulation.evaluate(sc, pol, engine="kernel")
    simpy = simulation.evaluate(sc, pol, engine="simpy")
    pd.testing.assert_frame_equal(simpy, kernel, check_exact=True)
