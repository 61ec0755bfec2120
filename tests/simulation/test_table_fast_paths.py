"""The whole-table paths of evaluate's input handling against the row-by-row definitions.

validate_policies checks whole columns and runs the Policy rules once per distinct policy;
policy_arrays encodes whole columns; summarize reduces all columns at once. Each must give exactly
what the plain row-by-row (column-by-column) definition gives, errors included (same message for
the first bad row)."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from simulation.counters import N_COUNTERS
from simulation.metrics import COST_COLUMNS, METRIC_COLUMNS, half_width, per_replication, summarize
from simulation.policy_arrays import _policy_arrays_by_row, policy_arrays
from tests.simulation.simpy_worlds import scenario

evaluate_module = importlib.import_module("simulation.evaluate")  # `simulation.evaluate` is the function


def two_mode_scenario():
    return scenario(
        transport=[dict(name="truck", lead_time=2, cost_per_shipment=10), dict(name="air", lead_time=0, cost_per_shipment=50)],
        skus=[dict(id="x", unit_cost=10.0, price=20.0, demand={"dist": "poisson", "mean": 5}),
              dict(id="y", unit_cost=4.0, price=9.0, demand={"dist": "poisson", "mean": 2})],
    )


def random_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Valid-looking policies with repeats, missing modes and R, half units and every family."""
    families = ["base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock"]
    rows = []
    for _ in range(n):
        f = families[rng.integers(len(families))]
        s = float(rng.integers(0, 6)) + rng.choice([0.0, 0.5])
        rows.append(dict(
            sku=["x", "y"][rng.integers(2)], family=f, mode=[None, np.nan, "truck", "air"][rng.integers(4)],
            s=s if f in ("sS", "rQ", "RsS") else np.nan,
            S=s + float(rng.integers(1, 9)) if f != "rQ" else np.nan,
            Q=float(rng.integers(1, 4)) if f == "rQ" else np.nan,
            R=[np.nan, 0.0, 1.0, 3.0][rng.integers(4)] if f not in ("RS", "RsS") else 2.0,
            cap=2.5 if f == "capped_base_stock" else np.nan,
        ))
    return pd.DataFrame(rows)


def by_row(sc, policies: pd.DataFrame) -> pd.DataFrame | str:
    """validate_policies by the row-by-row definition (or the error message)."""
    df = policies.reset_index(drop=True).copy()
    df = df[["sku", "family", "mode", "s", "S", "Q", "R", "cap"]].astype({"mode": object})
    try:
        evaluate_module._validate_by_row(sc, df)
    except ValueError as e:
        return str(e)
    df["critical_level"] = 0.0  # not given: no rationing
    return df


def whole_table(sc, policies: pd.DataFrame) -> pd.DataFrame | str:
    try:
        return evaluate_module.validate_policies(sc, policies)
    except ValueError as e:
        return str(e)


@pytest.mark.parametrize("change", [
    {}, {"sku": "zz"}, {"mode": "boat"}, {"R": 1.5}, {"R": -1.0}, {"family": "rQ", "Q": 0.2, "S": np.nan, "s": 1.0},
    {"family": "sS", "s": 9.0, "S": 4.0}, {"family": "RS", "R": 0.0}, {"family": "capped_base_stock", "cap": np.nan},
    {"family": "nope"}, {"S": np.inf},
])
def test_validation_equals_row_by_row(change):
    sc = two_mode_scenario()
    table = random_table(np.random.default_rng(3), 40)
    for k, v in change.items():
        table.loc[17, k] = v
    fast, slow = whole_table(sc, table), by_row(sc, table)
    if isinstance(slow, str):
        assert fast == slow and "row 17" in slow  # the first bad row is named, with the same rule
    else:
        pd.testing.assert_frame_equal(fast, slow)
        assert [type(v) for v in fast["mode"]] == [type(v) for v in slow["mode"]]
        assert fast["mode"].notna().all() and fast["R"].notna().all()
        prepared = table[["sku", "family", "mode", "s", "S", "Q", "R", "cap"]].astype({"mode": object})
        assert evaluate_module._fill_if_valid(sc, prepared)  # the whole-table path was the one compared


def test_validation_keeps_integer_R_column():
    sc = two_mode_scenario()
    table = random_table(np.random.default_rng(4), 30).dropna(subset=["R"])
    table["R"] = table["R"].astype(np.int64)
    fast, slow = whole_table(sc, table), by_row(sc, table)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["R"].dtype == np.int64


def test_policy_arrays_equal_row_by_row():
    sc = two_mode_scenario()
    table = random_table(np.random.default_rng(5), 60)
    table.loc[3, "S"] = 7.5  # half-up
    table.loc[4, "S"] = 6.4999
    fast = policy_arrays(sc, table)
    slow = _policy_arrays_by_row([m.name for m in sc.transport], table)
    for field in ("family", "mode", "s", "S", "Q", "R", "cap"):
        assert np.array_equal(getattr(fast, field), getattr(slow, field)), field
    assert fast.S[3] == 8 and fast.S[4] == 6
    assert np.array_equal(fast.take(np.array([4, 3])).S, [6, 8])


def test_summarize_equals_column_by_column():
    sc = two_mode_scenario()
    rng = np.random.default_rng(6)
    for reps in (1, 2, 7, 20):
        counters = rng.integers(0, 50, size=(9, reps, N_COUNTERS)).astype(np.float64)
        modes = rng.integers(0, 2, size=9)
        out = summarize(counters, sc, sc.skus[0], modes=modes)
        per_rep = per_replication(counters, sc, sc.skus[0], modes)
        for name in METRIC_COLUMNS + COST_COLUMNS:
            assert np.array_equal(out[name], per_rep[name].mean(axis=1)), name
            assert np.array_equal(out[f"{name}_ci"], half_width(per_rep[name])), name
        if reps > 1:  # the textbook t quantile: t(0.975, 1) = 12.706, t(0.975, 19) = 2.093
            x = per_rep["avg_on_hand"]
            t = out["avg_on_hand_ci"] / (x.std(axis=1, ddof=1) / np.sqrt(reps))
            expected = {2: 12.706, 7: 2.447, 20: 2.093}[reps]
            assert np.allclose(t[np.isfinite(t)], expected, atol=1e-3)


def test_half_width_uses_scipy_t_quantile_exactly():
    from scipy import stats

    rng = np.random.default_rng(9)
    for n in (2, 3, 5, 10, 20, 40, 80, 1000):
        x = rng.normal(5.0, 2.0, size=(4, n))
        expected = stats.t.ppf(0.975, n - 1) * x.std(axis=-1, ddof=1) / np.sqrt(n)
        assert np.array_equal(half_width(x), expected), n
    assert np.array_equal(half_width(np.ones((3, 1))), np.zeros(3))  # one replication: no spread known
