"""Reference: Little's law for backorders, order cycle times and the replenishment pipeline.

Backorders (L = lambda W). Customer orders of one unit each, all waiting when short. A unit
backordered in step 4 of period t and shipped in step 3 of t+w is in the end-of-period backlog of
t, ..., t+w-1: exactly w periods. So summed over the counted horizon

    backlog_sum = sum over orders of their wait  (+ edge terms: orders of the warm-up still waiting,
                                                   orders still waiting at the end; both >= 0, small)

and with fixed order-cycle elements (transmittal a, processing b, delivery c) every completed order
has cycle time a + b + wait + c, so  order_cycle_mean - (a+b+c) = avg backlog / order rate.

Pipeline. Base stock with backorders, R = 1: the review of period t orders exactly the demand of
period t-1 (every unit, backordered or not, left the inventory position). The j-th order (placed in
the j-th period after a period with demand) travels lead_time[j] periods, in transit at the end of
each of them; so in_transit_sum is known exactly from the demand and lead-time draws alone, with
random lead times (1..5) that let orders cross.
"""

from __future__ import annotations

import numpy as np

from simulation import simpy_model
from simulation.counters import INDEX
from simulation.policy_arrays import policy_arrays
from simulation.streams import sku_streams
from tests.simulation.simpy_worlds import policies, scenario

A, B, C = 0.5, 0.25, 1.0  # transmittal, processing, delivery (periods)


def world():
    return scenario(
        horizon=dict(periods=1500, warmup=30),
        replications=4,
        transport=[dict(name="truck", lead_time={"dist": "uniform", "low": 1, "high": 5})],
        order_cycle=dict(transmittal=A, processing=B, delivery=C, promised=3),
        customer_reaction=dict(wait=1.0),
        sku=dict(demand={"dist": "compound", "orders": {"dist": "poisson", "mean": 3}, "size": 1}),
    )


def run(sc, S_values):
    arrays = policy_arrays(sc, policies(*[dict(family="base_stock", S=S, R=1) for S in S_values]))
    return simpy_model.simulate_sku(sc, sc.skus[0], arrays, sc.replications, sc.seed)


def test_littles_law_backlog_equals_total_wait_and_cycle_time():
    sc = world()
    counters = run(sc, [8, 10, 12])
    c = {k: counters[..., i] for k, i in INDEX.items()}
    assert np.all(c["backordered_orders"] > 200)  # plenty of waiting to test
    total_wait = c["cycle_time_sum"] - (A + B + C) * c["completed_orders"]
    # edge terms are non-negative and a few periods of backlog at most
    assert np.all(c["backlog_sum"] >= total_wait - 1e-6)
    assert np.all(c["backlog_sum"] - total_wait <= 0.01 * c["backlog_sum"])
    # order cycle: mean = a + b + c + L/lambda, where L/lambda = backlog_sum / customer_orders
    mean_ct = c["cycle_time_sum"] / c["completed_orders"]
    little = A + B + C + c["backlog_sum"] / c["customer_orders"]
    assert np.all(np.abs(mean_ct - little) <= 0.01 * (little - (A + B + C)))
    # a wait off by one period would move total_wait by backordered_orders, ~50 % of backlog_sum here
    assert np.all(c["backordered_orders"] > 0.3 * c["backlog_sum"])


def test_pipeline_in_transit_equals_demand_times_own_lead_time():
    sc = world()
    counters = run(sc, [9])
    T, warmup = sc.horizon.warmup + sc.horizon.periods, sc.horizon.warmup
    for r in range(sc.replications):
        st = sku_streams(sc, sc.skus[0], r, sc.seed)
        demand = np.diff(st.order_start)  # one unit per order
        lead = st.lead_time["truck"]
        expected, j, n_orders, units = 0, 0, 0, 0
        for t in range(1, T):
            q = int(demand[t - 1])
            if q == 0:
                continue
            L = int(lead[j])
            j += 1
            counted = range(max(t, warmup), min(t + L, T))  # end of periods t .. t+L-1, counted part
            expected += q * len(counted)
            if t >= warmup:
                n_orders += 1
                units += q
        got = counters[0, r]
        assert got[INDEX["in_transit_sum"]] == expected
        assert got[INDEX["replenishment_orders"]] == n_orders
        assert got[INDEX["replenishment_units"]] == units
