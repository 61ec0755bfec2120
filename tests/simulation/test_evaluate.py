"""simulation.evaluate: input validation, row order, engine lookup, process pool, column contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulation
from simulation.metrics import COST_COLUMNS, EVALUATION_COLUMNS, METRIC_COLUMNS
from tests.simulation.simpy_worlds import policies, scenario
from tradeoff.executors import get_executor

PLAN_COLUMNS = (  # docs/outputs.md, plan.csv: every metric and cost column
    "fill_rate cycle_service_level order_fill_rate stockout_frequency order_cycle_mean order_cycle_sd "
    "on_time_rate backorder_rate substitution_rate lost_sales_rate customers_lost avg_on_hand avg_in_transit "
    "cost_carrying cost_ordering cost_order_processing cost_transport cost_warehousing cost_shortage cost_total"
).split()


def two_sku_scenario():
    return scenario(
        horizon=dict(periods=60, warmup=5),
        replications=3,
        transport=[dict(name="truck", lead_time=2, cost_per_shipment=10), dict(name="air", lead_time=0, cost_per_shipment=50)],
        skus=[
            dict(id="x", unit_cost=10.0, price=20.0, demand={"dist": "poisson", "mean": 5}),
            dict(id="y", unit_cost=4.0, price=9.0, demand={"dist": "poisson", "mean": 2}),
        ],
    )


def test_columns_cover_plan_csv_and_have_half_widths():
    assert set(PLAN_COLUMNS) == set(METRIC_COLUMNS + COST_COLUMNS)
    for name in PLAN_COLUMNS:
        assert f"{name}_ci" in EVALUATION_COLUMNS
    for extra in ("demand_per_period", "orders_per_period", "vehicles_per_period", "inventory_value", "replications",
                  "expedite_shipments_per_period", "expedite_units_per_period"):
        assert extra in EVALUATION_COLUMNS
    assert EVALUATION_COLUMNS[:8] == ("sku", "family", "mode", "s", "S", "Q", "R", "cap")


def test_rows_in_input_order_and_equal_to_per_sku_runs():
    sc = two_sku_scenario()
    pol = pd.concat([
        policies(dict(family="base_stock", S=12, R=1), sku="y"),
        policies(dict(family="sS", s=5, S=20, mode="air")),
        policies(dict(family="rQ", s=1, Q=6), sku="y"),
        policies(dict(family="RS", S=25, R=3)),
    ], ignore_index=True)
    out = simulation.evaluate(sc, pol, engine="simpy")
    assert list(out.columns) == list(EVALUATION_COLUMNS)
    assert list(out["sku"]) == ["y", "x", "y", "x"]
    assert list(out["family"]) == ["base_stock", "sS", "rQ", "RS"]
    assert list(out["mode"]) == ["truck", "air", "truck", "truck"]  # NaN mode -> first mode
    assert (out["replications"] == 3).all()
    # each row equals the same policy evaluated alone (common random numbers, no cross-talk)
    for i in range(len(pol)):
        alone = simulation.evaluate(sc, pol.iloc[[i]], engine="simpy")
        pd.testing.assert_frame_equal(alone.reset_index(drop=True), out.iloc[[i]].reset_index(drop=True))
    # transport cost follows the candidate's mode: air vehicles cost 50 each, truck vehicles 10
    assert out.loc[1, "cost_transport"] == pytest.approx(50 * out.loc[1, "vehicles_per_period"])
    assert out.loc[3, "cost_transport"] == pytest.approx(10 * out.loc[3, "vehicles_per_period"])


def test_jobs_give_identical_results():
    sc = two_sku_scenario()
    pol = pd.concat([policies(dict(family="base_stock", S=12, R=1), sku="y"), policies(dict(family="sS", s=5, S=20))], ignore_index=True)
    one = simulation.evaluate(sc, pol, engine="simpy")
    with get_executor("local", jobs=1) as alone:
        pd.testing.assert_frame_equal(one, simulation.evaluate(sc, pol, engine="simpy", executor=alone))
    with get_executor("local", jobs=2) as pool:
        two = simulation.evaluate(sc, pol, engine="simpy", executor=pool)
    pd.testing.assert_frame_equal(one, two)


def test_replications_and_seed_override():
    sc = two_sku_scenario()
    pol = policies(dict(family="base_stock", S=15, R=1))
    a = simulation.evaluate(sc, pol, engine="simpy", replications=2, seed=5)
    b = simulation.evaluate(sc, pol, engine="simpy", replications=2, seed=6)
    assert a.loc[0, "replications"] == 2
    assert a.loc[0, "avg_on_hand"] != b.loc[0, "avg_on_hand"]
    pd.testing.assert_frame_equal(a, simulation.evaluate(sc, pol, engine="simpy", replications=2, seed=5))


@pytest.mark.parametrize(
    "row, message",
    [
        (dict(sku="nope", family="base_stock", S=3), "unknown sku"),
        (dict(family="bogus", S=3), "row 0"),
        (dict(family="base_stock", S=3, mode="ship"), "unknown mode"),
        (dict(family="sS", S=10), "needs s"),
        (dict(family="rQ", s=3), "needs Q"),
        (dict(family="capped_base_stock", S=10), "needs cap"),
        (dict(family="RS", S=10, R=0), "R >= 1"),
        (dict(family="sS", s=10, S=5), "is not > s"),
        (dict(family="rQ", s=3, Q=0.4), "rounds to 0"),
    ],
)
def test_invalid_rows_name_the_row(row, message):
    sc = two_sku_scenario()
    pol = policies(row)
    with pytest.raises(ValueError, match=message) as err:
        simulation.evaluate(sc, pol, engine="simpy")
    assert "row 0" in str(err.value)


def test_kernel_engine_in_a_pool_equals_simpy():
    sc = two_sku_scenario()
    pol = pd.concat([policies(dict(family="rQ", s=2, Q=5, R=0), sku="y"), policies(dict(family="RsS", s=5, S=20, R=2, mode="air"))], ignore_index=True)
    with get_executor("local", jobs=2) as pool:
        pooled = simulation.evaluate(sc, pol, engine="kernel", executor=pool)
    pd.testing.assert_frame_equal(pooled, simulation.evaluate(sc, pol, engine="simpy"))


def test_unknown_engine():
    with pytest.raises(ValueError, match="unknown engine"):
        simulation.evaluate(two_sku_scenario(), policies(dict(family="base_stock", S=3)), engine="fortran")


def test_empty_policies():
    out = simulation.evaluate(two_sku_scenario(), policies(), engine="simpy")
    assert len(out) == 0 and list(out.columns) == list(EVALUATION_COLUMNS)


def test_whole_column_policy_rules_agree_with_the_policy_model():
    """validate_policies checks the Policy rules on whole columns and asks the Policy model only when
    not sure: on random tables (valid and invalid rows mixed) it accepts exactly the tables whose
    every row the model accepts, and fills them as the row-by-row path does."""
    from simulation.evaluate import _fill_if_valid, _validate_by_row, validate_policies

    sc = two_sku_scenario()
    rng = np.random.default_rng(11)
    families = ["base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock"]
    accepted = refused = 0
    for trial in range(600):
        n = int(rng.integers(1, 4))
        def maybe(values, p):
            return np.where(rng.random(n) < p, np.nan, values)
        pol = pd.DataFrame(dict(
            sku=rng.choice(["x", "y"], n), family=rng.choice(families, n),
            mode=rng.choice(np.array(["truck", "air", None], dtype=object), n),
            s=maybe(rng.integers(-3, 8, n) * 1.0, 0.05), S=maybe(rng.integers(-1, 25, n) * 1.0, 0.05),
            Q=maybe(rng.choice([0.0, 0.3, 0.5, 2.0, 7.0, 7.0, 9.0, np.inf], n), 0.05),
            R=rng.choice([0, 1, 7, 7], n), cap=maybe(rng.choice([-1.0, 0.0, 3.0, 9.0, 9.0], n), 0.05),
        ))
        pol["critical_level"] = np.nan  # not given: 0 after validation
        by_row = pol[list(simulation.metrics.POLICY_COLUMNS)].astype({"mode": object}).copy()
        try:
            _validate_by_row(sc, by_row)
            ok = True
        except ValueError:
            ok = False
        if ok:
            accepted += 1
            pd.testing.assert_frame_equal(validate_policies(sc, pol), by_row.assign(critical_level=0.0))
        else:
            refused += 1
            fast = pol[list(simulation.metrics.POLICY_COLUMNS)].astype({"mode": object}).copy()
            assert not _fill_if_valid(sc, fast)  # the whole-column check never accepts a bad table
            with pytest.raises(ValueError):
                validate_policies(sc, pol)
    assert accepted > 20 and refused > 20


def test_summary_batches_do_not_change_the_numbers(monkeypatch):
    """evaluate summarises counters a batch of candidates at a time (SUMMARY_BATCH_ROWS): batches of
    one row, of a few rows and of everything give the same bits."""
    import sys

    ev = sys.modules["simulation.evaluate"]

    sc = two_sku_scenario()
    pol = policies(
        dict(sku="x", family="sS", s=3, S=12), dict(sku="y", family="base_stock", S=6, mode="air"),
        dict(sku="x", family="rQ", s=2, Q=5), dict(sku="y", family="RS", S=7, R=2),
        dict(sku="x", family="capped_base_stock", S=9, cap=3),
    )
    outs = []
    for rows in (1, 2, 10_000):
        monkeypatch.setattr(ev, "SUMMARY_BATCH_ROWS", rows)
        outs.append(simulation.evaluate(sc, pol, engine="kernel"))
    for out in outs[1:]:
        pd.testing.assert_frame_equal(out, outs[0], check_exact=True)
