"""simulation.metrics.summarize: the formulas of docs/simulation.md on hand-made counters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation.counters import INDEX, N_COUNTERS
from simulation.metrics import COST_COLUMNS, METRIC_COLUMNS, SUMMARY_COLUMNS, summarize
from tests.simulation.simpy_worlds import scenario


def make(**values):
    c = np.zeros(N_COUNTERS)
    for k, v in values.items():
        c[INDEX[k]] = v
    return c


def world():
    return scenario(
        horizon=dict(periods=10, warmup=0),
        costs=dict(holding_per_unit_period=0.5, in_transit_rate=0.0, order_cost=7.0, order_processing=0.25,
                   warehousing=dict(per_unit_period=0.1), lost_sale=3.0, backorder_per_unit=0.2,
                   backorder_per_unit_period=0.4, substitution=1.5, lost_customer=9.0),
        transport=[dict(name="truck", lead_time=1, cost_per_shipment=20.0, cost_per_unit=0.5),
                   dict(name="air", lead_time=0, cost_per_shipment=60.0, cost_per_unit=2.0)],
        expedite=dict(mode="air"),
    )


def test_formulas_on_one_replication():
    rep = make(demand_units=100, filled_units=80, backordered_units=10, substituted_units=6, lost_units=4,
               customer_orders=40, orders_complete_at_once=30, backordered_orders=5, stockout_periods=3,
               cycles=4, cycles_with_stockout=1, completed_orders=36, cycle_time_sum=72.0, cycle_time_sq_sum=180.0,
               on_time_orders=32, customers_lost=2, on_hand_sum=150, in_transit_sum=40, backlog_sum=12,
               replenishment_orders=3, replenishment_units=90, vehicles=5, expedite_shipments=2, expedite_units=7)
    sc = world()
    out = summarize(rep[None, None, :], sc, sc.skus[0], modes=np.array([0]))
    assert list(out) == list(SUMMARY_COLUMNS)
    expected = dict(
        fill_rate=0.8, cycle_service_level=0.75, order_fill_rate=0.75, stockout_frequency=0.3,
        order_cycle_mean=2.0, order_cycle_sd=1.0, on_time_rate=0.8, backorder_rate=0.1, substitution_rate=0.06,
        lost_sales_rate=0.04, customers_lost=2, avg_on_hand=15.0, avg_in_transit=4.0,
        cost_carrying=0.5 * 150 / 10, cost_ordering=7 * 3 / 10, cost_order_processing=0.25 * 45 / 10,
        cost_transport=(20 * 5 + 0.5 * 90 + 60 * 2 + 2.0 * 7) / 10, cost_warehousing=0.1 * 150 / 10,
        cost_shortage=(3 * 4 + 1.5 * 6 + 0.2 * 10 + 0.4 * 12 + 9 * 2) / 10,
        demand_per_period=10.0, orders_per_period=0.3, vehicles_per_period=0.5, inventory_value=150.0,
        expedite_shipments_per_period=0.2, expedite_units_per_period=0.7,
    )
    expected["cost_total"] = sum(expected[k] for k in COST_COLUMNS[:-1])
    for k, v in expected.items():
        assert out[k][0] == pytest.approx(v), k
    for k in METRIC_COLUMNS + COST_COLUMNS:
        assert out[f"{k}_ci"][0] == 0  # one replication: no interval
    assert out["replications"][0] == 1


def test_air_mode_and_half_width():
    a = make(demand_units=10, filled_units=9, vehicles=1, replenishment_units=10, on_hand_sum=10, cycles=1)
    b = make(demand_units=10, filled_units=7, vehicles=2, replenishment_units=10, on_hand_sum=30, cycles=1)
    c = make(demand_units=20, filled_units=20, vehicles=0, on_hand_sum=20, cycles=1)
    sc = world()
    out = summarize(np.stack([a, b, c])[None], sc, sc.skus[0], modes=np.array([1]))
    fills = np.array([0.9, 0.7, 1.0])
    assert out["fill_rate"][0] == pytest.approx(fills.mean())
    assert out["fill_rate_ci"][0] == pytest.approx(stats.t.ppf(0.975, 2) * fills.std(ddof=1) / np.sqrt(3))
    transport = np.array([60 + 20, 120 + 20, 0]) / 10  # air: 60 per vehicle, 2 per unit
    assert out["cost_transport"][0] == pytest.approx(transport.mean())
    assert out["cost_transport_ci"][0] == pytest.approx(stats.t.ppf(0.975, 2) * transport.std(ddof=1) / np.sqrt(3))


def test_empty_denominators():
    sc = world()
    out = summarize(make(cycles=1)[None, None, :], sc, sc.skus[0], modes=[0])
    for k in ("fill_rate", "order_fill_rate", "on_time_rate", "cycle_service_level"):
        assert out[k][0] == 1.0  # service: nothing was asked
    for k in ("backorder_rate", "substitution_rate", "lost_sales_rate", "order_cycle_mean", "order_cycle_sd"):
        assert out[k][0] == 0.0


def test_modes_required_with_several_modes():
    sc = world()
    with pytest.raises(ValueError, match="mode"):
        summarize(make(cycles=1)[None, None, :], sc, sc.skus[0])


def test_summarize_many_equals_summarize_per_sku_to_the_bit():
    """summarize_many computes many SKUs' candidates at once with per-candidate rate columns: every
    column must equal summarize SKU by SKU to the last bit (NaN-free random counters, zeros
    included so that the empty-ratio branches are taken)."""
    from simulation.metrics import summarize_many

    sc = scenario(
        horizon=dict(periods=37, warmup=0),
        costs=dict(holding_per_unit_period=0.37, in_transit_rate=0.11, order_cost=7.3, order_processing=0.25,
                   warehousing=dict(per_unit_period=0.1), lost_sale=3.1, backorder_per_unit=0.2,
                   backorder_per_unit_period=0.4, substitution=1.7, lost_customer=9.0),
        transport=[dict(name="truck", lead_time=1, cost_per_shipment=20.0, cost_per_unit=0.5),
                   dict(name="air", lead_time=0, cost_per_shipment=60.0, cost_per_unit=2.0)],
        expedite=dict(mode="air"),
        skus=[dict(id=f"k{i}", unit_cost=1.3 + 2.9 * i, price=50.0, demand={"dist": "poisson", "mean": 3 + i})
              for i in range(4)],
    )
    rng = np.random.default_rng(5)
    for reps in (1, 2, 5):
        parts = []
        for i, sku in enumerate(sc.skus):
            n = int(rng.integers(1, 9))
            counters = rng.integers(0, 4, (n, reps, N_COUNTERS)).astype(np.float64) * rng.random((n, reps, N_COUNTERS)) * 100
            parts.append((counters, sku, rng.integers(0, 2, n)))
        together = summarize_many(parts, sc)
        for name in SUMMARY_COLUMNS:
            expected = np.concatenate([summarize(c, sc, sku, modes=m)[name] for c, sku, m in parts])
            assert together[name].dtype == expected.dtype
            assert together[name].tobytes() == expected.tobytes(), name
    with pytest.raises(ValueError, match="same number of replications"):
        summarize_many([(np.zeros((1, 2, N_COUNTERS)), sc.skus[0], [0]), (np.zeros((1, 3, N_COUNTERS)), sc.skus[1], [0])], sc)


def test_summary_means_and_half_widths_are_the_plain_per_column_reductions_to_the_bit():
    """summarize stacks the columns and hands the means to the half-widths (std(mean=...)) and the
    counters are transposed once: each column must still be, to the last bit, the plain definition on
    per_replication's values, x.mean(axis=1) and t(0.975, n-1) * x.std(axis=1, ddof=1) / sqrt(n),
    tiers' columns included (key_accounts has three tiers)."""
    from scenarios.loader import load
    from simulation.counters import N_TIER_COUNTERS
    from simulation.metrics import per_replication, summary_columns

    rng = np.random.default_rng(11)
    for sc in (world(), load("scenarios/examples/key_accounts.yaml")):
        n_tiers = sc.tier_count()
        width = N_COUNTERS + (N_TIER_COUNTERS * n_tiers if n_tiers > 1 else 0)
        sku = sc.skus[0]
        for reps in (2, 3, 10):
            counters = rng.integers(0, 4, (7, reps, width)).astype(np.float64) * rng.random((7, reps, width)) * 100
            modes = rng.integers(0, len(sc.transport), 7)
            got = summarize(counters, sc, sku, modes=modes)
            per_rep = per_replication(counters, sc, sku, modes=modes)
            t = stats.t.ppf(0.975, reps - 1)
            for name in summary_columns(sc):
                if name == "replications" or name.endswith("_ci"):
                    continue
                assert got[name].tobytes() == per_rep[name].mean(axis=1).tobytes(), name
                if name in METRIC_COLUMNS + COST_COLUMNS:
                    ci = t * per_rep[name].std(axis=1, ddof=1) / np.sqrt(reps)
                    assert got[f"{name}_ci"].tobytes() == ci.tobytes(), name
