"""The SimPy model follows docs/simulation.md step by step: small deterministic worlds worked by hand.

Each expected number below is derived in the comment next to it from the period order
(review, receive, backorders, expedites, customer orders, end of period), not from the model.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import simpy_model
from simulation.counters import INDEX
from simulation.policy_arrays import policy_arrays
from tests.simulation.simpy_worlds import policies, scenario


def counters(sc, *rows):
    """Counters of replication 0 per candidate, as dicts."""
    arr = policy_arrays(sc, policies(*rows))
    out = simpy_model.simulate_sku(sc, sc.skus[0], arr, 1, sc.seed)[:, 0, :]
    return [{k: row[i] for k, i in INDEX.items()} for row in out]


def fixed_world(demand, lead, periods, warmup=0, **extra):
    extra.setdefault("transport", [dict(name="truck", lead_time=lead)])
    return scenario(horizon=dict(periods=periods, warmup=warmup), replications=1, sku=dict(demand=demand), **extra)


def test_periodic_order_with_zero_lead_time_arrives_in_the_same_period():
    # S=10, demand 4: from t=1 each review orders 4, received in step 2 of t, before the demand:
    # on hand at the end is always 6, nothing in transit, and every period t>=1 ends a cycle.
    (c,) = counters(fixed_world(4, 0, periods=10, warmup=1), dict(family="base_stock", S=10, R=1))
    assert c["on_hand_sum"] == 60 and c["in_transit_sum"] == 0
    assert c["cycles"] == 10 + 1 and c["cycles_with_stockout"] == 0  # + the open cycle at the end
    assert c["replenishment_orders"] == 10 and c["filled_units"] == 40


def test_continuous_order_with_zero_lead_time_arrives_next_period():
    # reviewed after the order of t (IP 6 -> order 4), received in step 2 of t+1: in transit 4 at every end
    (c,) = counters(fixed_world(4, 0, periods=10, warmup=1), dict(family="base_stock", S=10, R=0))
    assert c["on_hand_sum"] == 60 and c["in_transit_sum"] == 40 and c["replenishment_orders"] == 10


def test_complete_shipments_block_the_queue_and_partial_ones_do_not():
    # S=4, demand 3 per period, lead 2, all customers wait (worked in the module's derivation):
    # complete-only: steady on hand 1, backlog 6 (two whole orders), in transit 6, each order waits 2;
    # partial: on hand 0, backlog 5 (2 owed by yesterday's order + 3 today), each order done in 2.
    T, warmup = 13, 3
    for partial, on_hand, backlog in ((False, 1, 6), (True, 0, 5)):
        sc = fixed_world(3, 2, periods=T - warmup, warmup=warmup, customer_reaction=dict(wait=1.0, partial_shipments=partial))
        (c,) = counters(sc, dict(family="base_stock", S=4, R=1))
        P = T - warmup
        assert c["on_hand_sum"] == on_hand * P and c["backlog_sum"] == backlog * P
        assert c["in_transit_sum"] == 6 * P
        assert c["filled_units"] == 0 and c["backordered_orders"] == P and c["stockout_periods"] == P
        assert c["completed_orders"] == P - 2  # orders of the last two periods are still waiting
        assert c["cycle_time_sum"] == 2 * (P - 2)
        assert c["cycles_with_stockout"] == c["cycles"]


def test_moq_pack_size_and_vehicles():
    # S=10, demand 3, moq 5, pack 4: t1 IP 7 -> 3 -> 5 -> 8 (IP 15); t3 IP 9 -> 8 (IP 17);
    # t6 IP 8 -> 8. Over t=0..6: 3 orders, 24 units; capacity 5 -> 2 vehicles each.
    sc = fixed_world(3, 1, periods=7, policies=dict(moq=5, pack_size=4),
                     transport=[dict(name="truck", lead_time=1, vehicle_capacity=5)])
    (c,) = counters(sc, dict(family="base_stock", S=10, R=1))
    assert (c["replenishment_orders"], c["replenishment_units"], c["vehicles"]) == (3, 24, 6)


def test_capped_base_stock_orders_at_most_cap():
    # S=10, demand 3, cap 2: every review from t=1 orders exactly 2 (the gap only grows)
    (c,) = counters(fixed_world(3, 1, periods=8), dict(family="capped_base_stock", S=10, cap=2, R=1))
    assert c["replenishment_orders"] == 7 and c["replenishment_units"] == 14


def test_rQ_orders_enough_multiples_to_rise_above_the_reorder_point():
    # s=5, Q=2, start on hand 7, demand 7 at t0 -> IP 0: smallest k with 0 + 2k > 5 is 3 -> 6 units
    (c,) = counters(fixed_world(7, 1, periods=1), dict(family="rQ", s=5, Q=2, R=0))
    assert (c["replenishment_orders"], c["replenishment_units"]) == (1, 6)


def test_RsS_reviews_every_R_periods_only_below_s():
    # S=20, s=8, R=3, demand 4, lead 0: reviews at t=0,3,6,9: IP 20, 8 (order 12), 8 (12), 8 (12)
    (c,) = counters(fixed_world(4, 0, periods=12), dict(family="RsS", s=8, S=20, R=3))
    assert (c["replenishment_orders"], c["replenishment_units"]) == (3, 36)


@pytest.mark.parametrize("lead, backlog_per_period, cycle_time", [(2, 6, 2.0), (0, 0, 0.0)])
def test_expedite_ships_the_shortfall_outside_the_warehouse(lead, backlog_per_period, cycle_time):
    # No stock (S=0 never orders: expedited units are not in the position). Each period's order of 3
    # is expedited by air: 3 units, ceil(3/2) = 2 vehicles; with lead 2 units of t and t-1 are still
    # owed at the end of t (backlog 6); each order completes after the expedite lead time.
    sc = fixed_world(
        3, 1, periods=10,
        transport=[dict(name="truck", lead_time=1), dict(name="air", lead_time=lead, vehicle_capacity=2)],
        expedite=dict(mode="air"), customer_reaction=dict(wait=1.0), order_cycle=dict(promised=1.0),
    )
    (c,) = counters(sc, dict(family="base_stock", S=0, R=1))
    assert c["replenishment_orders"] == 0 and c["on_hand_sum"] == 0
    assert c["expedite_units"] == 30 and c["expedite_shipments"] == 20 and c["backordered_units"] == 30
    done = 10 - lead  # completions after the horizon are not counted
    assert c["completed_orders"] == done and c["cycle_time_sum"] == cycle_time * done
    assert c["on_time_orders"] == (done if cycle_time <= 1.0 else 0)
    assert c["backlog_sum"] == backlog_per_period * 10 - (3 if lead == 2 else 0)  # t=0 has only its own 3


def test_order_cycle_elements_and_promise():
    # every order filled at once: cycle time = transmittal + processing + delivery = 1.5 exactly;
    # on time when promised >= 1.5 (up to 1e-9), late otherwise
    for promised, on_time in ((1.5, 5), (1.49, 0)):
        sc = fixed_world(1, 1, periods=5, order_cycle=dict(transmittal=0.5, processing=0.25, delivery=0.75, promised=promised))
        (c,) = counters(sc, dict(family="base_stock", S=10, R=1))
        assert c["completed_orders"] == 5 and c["cycle_time_sum"] == 7.5 and c["cycle_time_sq_sum"] == 5 * 2.25
        assert c["on_time_orders"] == on_time


def test_warm_up_periods_are_simulated_not_counted():
    (c,) = counters(fixed_world(4, 1, periods=7, warmup=5), dict(family="base_stock", S=20, R=1))
    assert c["demand_units"] == 28 and c["customer_orders"] == 7 and c["replenishment_orders"] == 7


def test_substitution_completes_at_once_and_lost_never():
    # no stock: every order short; all substitute -> all complete at once (cycle 0); all lost -> none
    for reaction, completed in ((dict(wait=0.0, substitute=1.0), 6), (dict(wait=0.0, lost_sale=1.0), 0)):
        sc = fixed_world(2, 1, periods=6, customer_reaction=reaction)
        (c,) = counters(sc, dict(family="base_stock", S=0, R=1))
        assert c["completed_orders"] == completed and c["cycle_time_sum"] == 0
        assert c["stockout_periods"] == 6 and c["orders_complete_at_once"] == 0
