"""Reference: the EOQ world — deterministic demand, no shortage — where counts are exact.

Demand is D units every period (one order each), the lead time is a fixed L periods.

(r,Q), continuous review, reorder point r = D (L-1): the order is placed right after the customer
order that brings the position to r and arrives in step 2 of t+L, just before that period's demand,
when exactly 0 is left. End-of-period on hand cycles through Q-D, Q-2D, ..., 0, so per period

    orders = D / Q,   avg_on_hand = (Q - D) / 2,   avg_in_transit = D L   (Q units for L periods),

and with order cost K and holding h, cost = K D / Q + h (Q - D) / 2 is minimised at the EOQ
Q* = sqrt(2 K D / h) (the -hD/2 is a constant). Vehicles per order: ceil(Q / capacity).

(R,S), periodic review every R periods with S >= D (L + R): each review orders R D; the net
inventory at the end of period t+L+j (j = 0..R-1) is S - D (L+1+j), so

    orders = 1 / R,   avg_on_hand = S - D (L+1) - D (R-1) / 2,   avg_in_transit = D L.

The counted horizon is a multiple of every cycle length, so these are exact equalities.
"""

from __future__ import annotations

import math

import numpy as np

import simulation
from tests.simulation.simpy_worlds import policies, scenario

D, L, K, H, CAPACITY = 10, 3, 18.0, 0.1, 25


def world(**extra):
    return scenario(
        # 600 = 5 x lcm(2, 3, 4, 5, 6, 8, 10, 12); the textbook's cycle starts full (with deterministic
        # demand the phase a replication starts in stays for ever: simulation.start)
        horizon=dict(periods=600, warmup=30, start="full"),
        replications=2,
        transport=[dict(name="truck", lead_time=L, vehicle_capacity=CAPACITY)],
        costs=dict(holding_per_unit_period=H, in_transit_rate=0.0, order_cost=K),
        sku=dict(demand=D),
        **extra,
    )


def test_rQ_eoq_world_counts_and_optimum():
    lots = [20, 30, 40, 50, 60, 80, 100, 120]
    out = simulation.evaluate(world(), policies(*[dict(family="rQ", s=D * (L - 1), Q=q) for q in lots]), engine="simpy")
    q = np.array(lots, dtype=float)
    assert np.array_equal(out["orders_per_period"], D / q)
    assert np.array_equal(out["avg_on_hand"], (q - D) / 2)
    assert np.array_equal(out["avg_in_transit"], np.full(len(lots), float(D * L)))
    assert np.array_equal(out["vehicles_per_period"], np.ceil(q / CAPACITY) * D / q)
    assert (out["fill_rate"] == 1).all() and (out["cost_shortage"] == 0).all()
    assert np.allclose(out["cost_total"], K * D / q + H * (q - D) / 2)
    assert (out["cost_total_ci"] == 0).all()  # deterministic: identical replications
    eoq = math.sqrt(2 * K * D / H)
    assert lots[int(np.argmin(out["cost_total"]))] == eoq == 60


def test_rQ_safety_stock_adds_to_every_period():
    # r = D (L-1) + 2D: two periods of safety stock on top of the cycle stock
    out = simulation.evaluate(world(), policies(dict(family="rQ", s=D * (L + 1), Q=50)), engine="simpy")
    assert out.loc[0, "avg_on_hand"] == (50 - D) / 2 + 2 * D


def test_RS_periodic_counts():
    rows = [(R, S) for R in (2, 4, 5) for S in (D * (L + R), D * (L + R) + 7)]
    out = simulation.evaluate(world(), policies(*[dict(family="RS", S=S, R=R) for R, S in rows]), engine="simpy")
    for k, (R, S) in enumerate(rows):
        assert out.loc[k, "orders_per_period"] == 1 / R
        assert out.loc[k, "avg_on_hand"] == S - D * (L + 1) - D * (R - 1) / 2
        assert out.loc[k, "avg_in_transit"] == D * L
        assert out.loc[k, "fill_rate"] == 1.0
