"""Reference: repeated-stockout defection empties the customer base exactly as counted.

With no stock at all (base stock S = 0 under lost sales: the position never drops below 0, so
nothing is ever ordered) every customer order is a stockout. Then, from the draws alone:

* threshold 1, probability 1: each customer defects at their first order. customers_lost = the number
  of distinct customers who ordered; demand = the sizes of those first orders; every later order
  of theirs vanishes (no demand, no customer order);
* threshold 2, window W, probability 1: a customer defects at the first order whose period is less
  than W after the previous order's (older stockouts are forgotten);
* threshold 1, probability p: a customer defects at the first order i with u_defect[i] < p.

customers_lost counts defections in counted periods only; lost_customer is charged per defection.
"""

from __future__ import annotations

import numpy as np
import pytest

import simulation
from simulation import simpy_model
from simulation.counters import INDEX
from simulation.policy_arrays import policy_arrays
from simulation.streams import sku_streams
from tests.simulation.simpy_worlds import policies, scenario

CUSTOMERS = 40


def world(threshold, window, probability, warmup=0):
    return scenario(
        horizon=dict(periods=300, warmup=warmup),
        replications=3,
        costs=dict(holding_per_unit_period=1.0, lost_sale=2.0, lost_customer=50.0),
        customer_reaction=dict(
            wait=0.0, substitute=0.0, lost_sale=1.0,
            repeated_stockout=dict(window=window, threshold=threshold, defect_probability=probability),
        ),
        sku=dict(customers=CUSTOMERS, demand={"dist": "compound", "orders": {"dist": "poisson", "mean": 1.5},
                                              "size": {"dist": "uniform", "low": 1, "high": 4}}),
    )


def expected_from_draws(sc, r, threshold, window, probability):
    """Walk the draws: (customers lost in counted periods, demand units, customer orders) counted."""
    st = sku_streams(sc, sc.skus[0], r, sc.seed)
    warmup = sc.horizon.warmup
    period = np.repeat(np.arange(st.periods), np.diff(st.order_start))
    gone, seen = set(), {}
    lost, demand, orders = 0, 0, 0
    for i, c in enumerate(st.order_customer):
        c, t = int(c), int(period[i])
        if c in gone:
            continue
        if t >= warmup:
            demand += int(st.order_size[i])
            orders += 1
        history = [u for u in seen.get(c, []) if u > t - window] + [t]
        seen[c] = history
        if len(history) >= threshold and st.u_defect[i] < probability:
            gone.add(c)
            lost += t >= warmup
    return lost, demand, orders


@pytest.mark.parametrize(
    "threshold, window, probability, warmup",
    [(1, 90, 1.0, 0), (2, 15, 1.0, 0), (1, 90, 0.25, 0), (2, 30, 1.0, 40)],
)
def test_defection_counts_exactly(threshold, window, probability, warmup):
    sc = world(threshold, window, probability, warmup)
    arrays = policy_arrays(sc, policies(dict(family="base_stock", S=0, R=1), dict(family="sS", s=-1, S=0, R=0)))
    counters = simpy_model.simulate_sku(sc, sc.skus[0], arrays, sc.replications, sc.seed)
    for r in range(sc.replications):
        lost, demand, orders = expected_from_draws(sc, r, threshold, window, probability)
        for k in range(len(arrays)):
            got = counters[k, r]
            assert got[INDEX["customers_lost"]] == lost
            assert got[INDEX["demand_units"]] == demand
            assert got[INDEX["customer_orders"]] == orders
            assert got[INDEX["lost_units"]] == demand and got[INDEX["filled_units"]] == 0


def test_threshold_one_empties_the_base_and_charges_each_customer():
    sc = world(1, 90, 1.0)
    out = simulation.evaluate(sc, policies(dict(family="base_stock", S=0, R=1)), engine="simpy")
    for r in range(sc.replications):
        st = sku_streams(sc, sc.skus[0], r, sc.seed)
        assert len(set(st.order_customer.tolist())) == CUSTOMERS  # everyone orders within the horizon
    assert out.loc[0, "customers_lost"] == CUSTOMERS and out.loc[0, "customers_lost_ci"] == 0
    P = sc.horizon.periods
    assert out.loc[0, "cost_shortage"] == pytest.approx((2.0 * out.loc[0, "demand_per_period"] * P + 50.0 * CUSTOMERS) / P)
