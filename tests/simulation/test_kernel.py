"""The fast kernel against hand-computed cases, inventory identities and an independent plain loop.

Every expected number here is derived by hand from docs/simulation.md (deterministic demand) or by
an independent, minimal Python loop (the lost-sales sS loop of ../shared/bench/limit_kernel.py),
never by the kernel itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.schema import Scenario
from simulation.counters import COUNTERS, INDEX
from simulation.kernel import simulate_sku
from simulation.policy_arrays import policy_arrays
from simulation.streams import sku_streams


def scenario(**kw) -> Scenario:
    base = dict(
        format=1,
        name="t",
        seed=3,
        horizon=dict(periods=20, warmup=0),
        replications=1,
        transport=[dict(name="truck", lead_time=2)],
        skus=[dict(id="a", unit_cost=1.0, price=2.0, demand=3)],
        customer_reaction=dict(wait=0.0, substitute=0.0, lost_sale=1.0),
    )
    base.update(kw)
    base["horizon"] = {"start": "full", **base["horizon"]}  # the traces below start at the order-up-to level
    return Scenario.model_validate(base)


def run(sc: Scenario, rows: list[dict], replications: int = 1) -> list[dict]:
    """Counters of each candidate (replication 0) as dicts."""
    cols = dict(sku="a", family=None, mode=None, s=np.nan, S=np.nan, Q=np.nan, R=0, cap=np.nan)
    df = pd.DataFrame([{**cols, **r} for r in rows])
    res = simulate_sku(sc, sc.skus[0], policy_arrays(sc, df), replications, sc.seed)
    assert res.shape == (len(rows), replications, len(COUNTERS))
    return [dict(zip(COUNTERS, res[k, 0])) for k in range(len(rows))]


def test_deterministic_sS_continuous_lost_sales():
    # Demand 3 every period, L = 2, continuous sS(5, 12): on hand 12 9 6 | order 9 at t=2 (IP 3),
    # arrives t=4; from then on hand cycles 6 3 0 with an order every 3 periods (t = 2, 5, ..., 17).
    c = run(scenario(), [dict(family="sS", s=5, S=12, R=0)])[0]
    assert c["replenishment_orders"] == 6 and c["replenishment_units"] == 54 and c["vehicles"] == 6
    assert c["cycles"] == 7  # receipts at t = 4, 7, ..., 19 and the open cycle
    assert c["cycles_with_stockout"] == 0 and c["lost_units"] == 0
    assert c["on_hand_sum"] == 9 + 6 + 3 + 0 + 5 * 9 + 6
    assert c["in_transit_sum"] == 6 * 2 * 9
    assert c["demand_units"] == 60 and c["customer_orders"] == 20 and c["orders_complete_at_once"] == 20
    assert c["completed_orders"] == 20 and c["cycle_time_sum"] == 0 and c["on_time_orders"] == 20


def test_deterministic_RS_lost_sales():
    # RS(S=9, R=3), L = 2, demand 3: t0 review IP 9 (no order); stock 6 3 0; t3 order 9 (arrives t5);
    # t3, t4 lost; t5 on hand 6; t6 order 3 (IP 6), arrives t8; t7 0; t8 3 -> 0; t9 order 9 ...
    c = run(scenario(), [dict(family="RS", S=9, R=3)])[0]
    # Reviews at t = 3, 6, 9, 12, 15, 18 alternate order 9 / order 3.
    assert c["replenishment_orders"] == 6 and c["replenishment_units"] == 3 * 9 + 3 * 3
    # Lost in t = 3, 4, 9, 10, 15, 16.
    assert c["lost_units"] == 18 and c["stockout_periods"] == 6
    assert c["filled_units"] == 42 and c["orders_complete_at_once"] == 14
    # Receipts at t = 5, 8, 11, 14, 17 (t=20 is past the horizon) + the open cycle; stockouts
    # before receipts at t = 5, 11, 17.
    assert c["cycles"] == 6 and c["cycles_with_stockout"] == 3


def test_warmup_counts_only_later_periods():
    sc = scenario(horizon=dict(periods=14, warmup=6))
    c = run(sc, [dict(family="RS", S=9, R=3)])[0]
    # Same path as above; counted t = 6..19: lost in 9, 10, 15, 16; orders at 6, 9, 12, 15, 18.
    assert c["lost_units"] == 12 and c["stockout_periods"] == 4
    assert c["replenishment_orders"] == 5 and c["replenishment_units"] == 3 + 9 + 3 + 9 + 3
    assert c["demand_units"] == 42 and c["customer_orders"] == 14
    assert c["cycles"] == 5 and c["cycles_with_stockout"] == 2  # receipts 8, 11, 14, 17 + open


def test_backorders_cycle_times_and_expedite():
    # Backorders: RS(S=4, R=4), L=1, demand 3. t0: stock 4 -> 1. t1: 1 short 2 -> waits.
    # t2: 3 short -> waits. t3: 3 waits. t4: review IP = 0 - 8 -> order 12, arrives t5.
    oc = dict(transmittal=0.5, processing=0.25, delivery=1.0, promised=3.0)
    sc = scenario(
        horizon=dict(periods=6, warmup=0), customer_reaction=dict(wait=1.0), order_cycle=oc,
        transport=[dict(name="truck", lead_time=1, vehicle_capacity=5)],
    )
    c = run(sc, [dict(family="RS", S=4, R=4)])[0]
    # t4: 3 more wait (owed 2+3+3+3 = 11). t5: receive 12 -> FIFO serves orders of t1..t4 (1 left),
    # then the t5 order: 1 filled, 2 wait.
    assert c["backordered_units"] == 2 + 3 + 3 + 3 + 2 and c["backordered_orders"] == 5
    assert c["filled_units"] == 3 + 1 + 1 and c["orders_complete_at_once"] == 1
    assert c["vehicles"] == 3 and c["replenishment_units"] == 12
    # Completed: t0 at once (1.75), t1..t4 at t5 (1.75 + 4, 3, 2, 1); the t5 order is still open.
    cts = [1.75, 5.75, 4.75, 3.75, 2.75]
    assert c["completed_orders"] == 5
    assert c["cycle_time_sum"] == pytest.approx(sum(cts), rel=1e-12)
    assert c["cycle_time_sq_sum"] == pytest.approx(sum(x * x for x in cts), rel=1e-12)
    assert c["on_time_orders"] == 2  # 1.75 and 2.75 <= 3
    # Backlog at the ends of t1..t5: 2, 5, 8, 11, 2.
    assert c["backlog_sum"] == 28 and c["on_hand_sum"] == 1

    # The same with expedite by a second mode (lead time 2, 2 units per vehicle): each shortfall
    # ships by air and is owed (backlog) until it arrives in step 3 of t + 2, but is not in IP.
    sc = scenario(
        horizon=dict(periods=6, warmup=0), customer_reaction=dict(wait=1.0), order_cycle=oc,
        transport=[dict(name="truck", lead_time=1), dict(name="air", lead_time=2, vehicle_capacity=2)],
        expedite=dict(mode="air"),
    )
    c = run(sc, [dict(family="RS", S=4, R=4)])[0]
    # t0 4 -> 1; t1 short 2 (air, due t3); t2 short 3 (due t4); t3 3 (due t5); t4 review IP = 0 -> order 4,
    # arrives t5; t4 short 3 (due t6, past the horizon); t5 receive 4 -> fill 3.
    assert c["expedite_units"] == 11 and c["expedite_shipments"] == 1 + 2 + 2 + 2
    assert c["backordered_units"] == 11 and c["backordered_orders"] == 4
    assert c["completed_orders"] == 1 + 3 + 1
    assert c["cycle_time_sum"] == pytest.approx(1.75 * 5 + 3 * 2, rel=1e-12)
    # Owed at the ends of t1..t5: 2, 5, 6, 6, 3.
    assert c["backlog_sum"] == 22
    assert c["replenishment_units"] == 4 and c["on_hand_sum"] == 1 + 1


def test_no_partial_shipments_fifo_without_overtaking():
    # Demand 3 per period, RS(S=5, R=2), L=1, wait, whole orders only.
    sc = scenario(
        horizon=dict(periods=5, warmup=0), customer_reaction=dict(wait=1.0, partial_shipments=False),
        transport=[dict(name="truck", lead_time=1)],
    )
    c = run(sc, [dict(family="RS", S=5, R=2)])[0]
    # t0: review IP 5, no order; 5 -> 2. t1: 2 < 3: nothing ships, 3 wait. t2: review IP = 2 - 3 = -1
    # -> order 6 (arrives t3); 2 < 3, 3 more wait. t3: receive 6 -> on hand 8; FIFO ships 3 and 3
    # -> 2; t3 order: 2 < 3 waits. t4: review IP = 2 - 3 = -1 -> order 6, arrives t5 (past).
    # t4 order waits too (2 < 3, the queue head cannot ship and nobody overtakes).
    assert c["filled_units"] == 3 and c["backordered_units"] == 12 and c["backordered_orders"] == 4
    assert c["completed_orders"] == 3  # t0 at once, t1 and t2 at t3
    assert c["on_hand_sum"] == 2 + 2 + 2 + 2 + 2 and c["backlog_sum"] == 3 + 6 + 3 + 6


def test_defection_and_substitution():
    # One customer, threshold 1, probability 1: the first stockout makes them leave for good.
    sc = scenario(
        skus=[dict(id="a", unit_cost=1.0, price=2.0, demand=3, customers=1)],
        customer_reaction=dict(
            wait=0.0, substitute=1.0, lost_sale=0.0,
            repeated_stockout=dict(window=5, threshold=1, defect_probability=1.0),
        ),
    )
    c = run(sc, [dict(family="sS", s=0, S=7, R=0)])[0]
    # 7 -> 4 -> 1 -> short 2 at t2 (substituted, kept), IP 0 <= 0 orders 7; then the customer is gone.
    assert c["customers_lost"] == 1 and c["demand_units"] == 9 and c["customer_orders"] == 3
    assert c["substituted_units"] == 2 and c["completed_orders"] == 3
    assert c["stockout_periods"] == 1 and c["replenishment_orders"] == 1
    assert c["on_hand_sum"] == 4 + 1 + 0 + 0 + 7 * 16


@pytest.mark.parametrize("window, lost_customers", [(3, 1), (1, 0)])
def test_defection_window_threshold(window, lost_customers):
    # RS(S=6, R=100), lead time 10, lost sales: stock 6 -> 3 -> 0, then every period from t2 is a
    # stockout. Threshold 2: with window 3 the stockouts of t2 and t3 are both inside it at t3
    # (entries <= t - 3 forgotten) -> the customer leaves; with window 1 only the current period's
    # entries are kept, one stockout per period, so the customer never leaves.
    sc = scenario(
        skus=[dict(id="a", unit_cost=1.0, price=2.0, demand=3, customers=1)],
        transport=[dict(name="truck", lead_time=10)],
        customer_reaction=dict(
            wait=0.0, substitute=0.0, lost_sale=1.0,
            repeated_stockout=dict(window=window, threshold=2, defect_probability=1.0),
        ),
    )
    c = run(sc, [dict(family="RS", S=6, R=100)])[0]
    assert c["customers_lost"] == lost_customers
    if lost_customers:
        assert c["customer_orders"] == 4 and c["lost_units"] == 6
    else:
        assert c["customer_orders"] == 20 and c["lost_units"] == 18 * 3


def test_rQ_moq_pack_and_vehicle_steps():
    sc = scenario(
        horizon=dict(periods=4, warmup=0), policies=dict(moq=10, pack_size=4),
        transport=[dict(name="truck", lead_time=1, vehicle_capacity=5)],
    )
    c = run(sc, [dict(family="rQ", s=2, Q=3, R=1), dict(family="capped_base_stock", S=8, cap=3, R=1)])
    # rQ: start s+Q = 5; t0 IP 5 no; 5 -> 2; t1 IP 2 <= 2 -> k = 1 -> 3 -> moq 10 -> pack 12
    # (3 vehicles of 5), arrives t2; t1: 2 sold, 1 lost; t2 IP 12, receive -> 9; t3 9 -> 6.
    assert (c[0]["replenishment_orders"], c[0]["replenishment_units"], c[0]["vehicles"]) == (1, 12, 3)
    assert c[0]["lost_units"] == 1 and c[0]["on_hand_sum"] == 2 + 0 + 9 + 6
    # capped: t0 IP 8 no; 8 -> 5; t1 IP 5 < 8 -> min(3, 3) = 3 -> moq 10 -> 12; t2 IP 14, t3 IP 11.
    assert (c[1]["replenishment_orders"], c[1]["replenishment_units"], c[1]["vehicles"]) == (1, 12, 3)
    assert c[1]["on_hand_sum"] == 5 + 2 + 11 + 8


def plain_lost_sales_sS(s, S, demand, lead_time):
    """The limit loop (lost sales, review after demand, arrival after lead_time), in plain Python."""
    pipeline = [0] * (len(demand) + lead_time + 1)
    on_hand, on_order, lost, on_hand_sum, orders = S, 0, 0, 0, 0
    for t, d in enumerate(demand):
        on_hand += pipeline[t]
        on_order -= pipeline[t]
        sold = min(d, on_hand)
        on_hand -= sold
        lost += d - sold
        if on_hand + on_order <= s:
            pipeline[t + lead_time] += S - on_hand - on_order
            on_order += S - on_hand - on_order
            orders += 1
        on_hand_sum += on_hand
    return lost, on_hand_sum, orders


def test_poisson_lost_sales_matches_plain_loop():
    sc = scenario(horizon=dict(periods=300, warmup=0), transport=[dict(name="truck", lead_time=3)],
                  skus=[dict(id="a", unit_cost=1.0, price=2.0, demand=dict(dist="poisson", mean=6))])
    st = sku_streams(sc, sc.skus[0], 0, sc.seed)
    demand = np.zeros(300, np.int64)
    for t in range(300):
        demand[t] = st.order_size[st.order_start[t]:st.order_start[t + 1]].sum()
    grid = [(s, S) for s in (5, 12, 20) for S in (s + 1, s + 15)]
    got = run(sc, [dict(family="sS", s=s, S=S, R=0) for s, S in grid])
    for (s, S), c in zip(grid, got):
        lost, ohs, orders = plain_lost_sales_sS(s, S, list(demand), 3)
        assert (c["lost_units"], c["on_hand_sum"], c["replenishment_orders"]) == (lost, ohs, orders)


def test_base_stock_backorder_identity_and_conservation():
    # With backorders, a continuous base stock keeps IP = S after every order, so at each period end
    # on_hand - backlog + in_transit = S (exactly); units are conserved.
    sc = scenario(
        horizon=dict(periods=200, warmup=10), customer_reaction=dict(wait=1.0),
        transport=[dict(name="truck", lead_time=dict(dist="uniform", low=0, high=4))],
        skus=[dict(id="a", unit_cost=1.0, price=2.0, demand=dict(dist="negbin", mean=4, cv=0.8))],
    )
    for S in (0, 5, 15):
        c = run(sc, [dict(family="base_stock", S=S, R=0)])[0]
        assert c["on_hand_sum"] - c["backlog_sum"] + c["in_transit_sum"] == S * 200
        assert c["filled_units"] + c["backordered_units"] == c["demand_units"]
    # Periodic R = 1: after the review IP = S, then the period's demand lowers it.
    c = run(sc, [dict(family="base_stock", S=9, R=1)])[0]
    assert c["on_hand_sum"] - c["backlog_sum"] + c["in_transit_sum"] == 9 * 200 - c["demand_units"]


def test_replications_read_their_own_streams():
    sc = scenario(horizon=dict(periods=50, warmup=0), skus=[dict(id="a", unit_cost=1.0, price=2.0,
                  demand=dict(dist="poisson", mean=3))])
    df = pd.DataFrame([dict(sku="a", family="sS", mode=None, s=2, S=9, Q=np.nan, R=0, cap=np.nan)])
    both = simulate_sku(sc, sc.skus[0], policy_arrays(sc, df), 2, 11)
    for r in range(2):
        st = sku_streams(sc, sc.skus[0], r, 11)
        assert both[0, r, INDEX["demand_units"]] == st.order_size.sum()


def test_compiled_codes_follow_the_shared_definitions():
    # The compiled loop hard-codes family codes and counter positions; they must follow the modules
    # the SimPy model and metrics read (a reordering there would silently swap counters here).
    from simulation import kernel_loop as kl
    from simulation.policy_arrays import FAMILY_CODE

    assert (kl.BASE_STOCK, kl.SS, kl.RQ, kl.RS, kl.RSS, kl.CAPPED) == tuple(
        FAMILY_CODE[f] for f in ("base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock"))
    positions = {name: getattr(kl, "C_" + short) for name, short in (
        ("demand_units", "DEMAND"), ("filled_units", "FILLED"), ("backordered_units", "BACKORDERED"),
        ("substituted_units", "SUBSTITUTED"), ("lost_units", "LOST"), ("customer_orders", "ORDERS"),
        ("orders_complete_at_once", "AT_ONCE"), ("backordered_orders", "BO_ORDERS"),
        ("stockout_periods", "STOCKOUT_PERIODS"), ("cycles", "CYCLES"), ("cycles_with_stockout", "CYCLES_SO"),
        ("completed_orders", "COMPLETED"), ("cycle_time_sum", "CT_SUM"), ("cycle_time_sq_sum", "CT_SQ"),
        ("on_time_orders", "ON_TIME"), ("customers_lost", "CUSTOMERS_LOST"), ("on_hand_sum", "ON_HAND"),
        ("in_transit_sum", "IN_TRANSIT"), ("backlog_sum", "BACKLOG"), ("replenishment_orders", "REP_ORDERS"),
        ("replenishment_units", "REP_UNITS"), ("vehicles", "VEHICLES"), ("expedite_shipments", "EXP_SHIPMENTS"),
        ("expedite_units", "EXP_UNITS"),
    )}
    assert positions == INDEX
