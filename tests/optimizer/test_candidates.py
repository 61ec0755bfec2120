"""The initial grid: families, modes and review periods as the scenario allows; whole units; lot sizes
at least the MOQ and multiples of the pack size; the EOQ and the critical-fractile quantile present."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from optimizer.candidates import initial_candidates
from scenarios.schema import Scenario


def make(**over) -> Scenario:
    data = {"format": 1, "name": "grid",
            "costs": {"holding_per_unit_period": 0.5, "order_cost": 50.0, "backorder_per_unit_period": 4.5},
            "transport": [{"name": "truck", "lead_time": 4, "cost_per_shipment": 30.0, "vehicle_capacity": 400},
                          {"name": "air", "lead_time": 1, "cost_per_shipment": 90.0}],
            "skus": [{"id": "a", "unit_cost": 10, "price": 15, "demand": {"dist": "poisson", "mean": 20}},
                     {"id": "b", "unit_cost": 4, "price": 9, "demand": {"dist": "negbin", "mean": 3, "cv": 1.2}}]}
    data.update(over)
    return Scenario.model_validate(data)


def test_grid_shape_and_rules():
    sc = make(policies={"families": ["sS", "rQ", "RS", "base_stock", "capped_base_stock"],
                        "review_periods": [0, 1, 7], "moq": 15, "pack_size": 6})
    c = initial_candidates(sc)
    assert list(c.columns) == ["sku", "family", "mode", "s", "S", "Q", "R", "cap", "critical_level"]
    per_sku = c.groupby("sku").size()
    assert per_sku.between(30, 160).all()
    assert set(c["family"]) == {"sS", "rQ", "RS", "base_stock", "capped_base_stock"}
    assert set(c["mode"]) == {"truck", "air"}
    assert (c.loc[c["family"] == "RS", "R"] >= 1).all()
    assert set(c["R"]) == {0, 1, 7}
    for col in ("s", "S", "Q", "cap"):
        v = c[col].dropna()
        assert (v == np.round(v)).all()
    q = c["Q"].dropna()
    assert (q >= 15).all() and (q % 6 == 0).all()
    sS = c[c["family"] == "sS"]
    assert (sS["S"] > sS["s"]).all() and ((sS["S"] - sS["s"]) % 6 == 0).all()
    assert c.loc[c["family"] == "base_stock", ["s", "Q", "cap"]].isna().all().all()
    assert not c.duplicated().any()


def test_eoq_with_vehicle_cost_and_modes_filter():
    sc = make(policies={"families": ["rQ"], "review_periods": [0], "modes": ["air"]})
    c = initial_candidates(sc)
    assert set(c["mode"]) == {"air"}
    # EOQ with the order cost plus one vehicle: sqrt(2 (50 + 90) 20 / 0.5)
    eoq = math.sqrt(2 * (50 + 90) * 20 / 0.5)
    assert math.ceil(eoq) in set(c.loc[c["sku"] == "a", "Q"].astype(int))


def test_base_stock_grid_holds_critical_fractile_quantile():
    sc = make(policies={"families": ["base_stock"], "review_periods": [1], "modes": ["truck"]})
    c = initial_candidates(sc)
    # p/(p+h) = 0.9 quantile of Poisson demand over L + R = 5 periods
    assert int(stats.poisson.ppf(0.9, 20 * 5)) in set(c.loc[c["sku"] == "a", "S"].astype(int))


def test_explicit_candidates_replace_the_grid():
    sc = make(policies={"families": ["sS", "RS"], "review_periods": [0, 7],
                        "candidates": {"sS": [{"s": 10, "S": 40.4}], "RS": [{"S": 55, "R": 7}]}})
    c = initial_candidates(sc)
    assert len(c) == 2 * 2 * (2 + 1)  # SKUs x modes x (sS at R 0 and 7, RS at R 7)
    assert set(c.loc[c["family"] == "sS", "S"]) == {40.0}
    assert set(c.loc[c["family"] == "RS", "R"]) == {7}


def test_example_scenarios_give_30_to_90_per_sku():
    import scenarios

    # at most 80 from the grid and the fill-rate rows, plus the analytic seeds (optimizer.seeds: one
    # per way, two more around the cheapest way of each lot family): 6 + 2 in retail_dc
    for name in ("retail_dc", "spare_parts"):
        sc = scenarios.load(f"scenarios/examples/{name}.yaml")
        per = initial_candidates(sc).groupby("sku").size()
        assert per.between(30, 90).all(), (name, per.describe())


def test_quantiles_read_off_the_cdf_table_equal_scipys_ppf():
    # optimizer.candidates._quantiles reads the quantiles off its CDF table (the smallest k with
    # F(k) >= q); scipy's ppf is the reference, on random moments from tiny to large, Poisson-like
    # and over-dispersed, at the ladder's levels and the extremes.

    from scipy import stats

    from optimizer.candidates import BASE_LADDER, _quantiles

    levels = tuple(sorted(set(BASE_LADDER) | {0.01, 0.123456, 0.9999}))
    g = np.random.default_rng(11)
    for _ in range(3000):
        mean = float(math.exp(g.uniform(-4, 10)))
        var = mean * (1.0 if g.random() < 0.4 else float(math.exp(g.uniform(0, 4))))
        if var <= mean * (1 + 1e-9):
            ref = stats.poisson.ppf(levels, mean)
        else:
            n = mean * mean / (var - mean)
            ref = stats.nbinom.ppf(levels, n, n / (n + mean))
        assert _quantiles(mean, var, levels) == tuple(int(max(0, x)) for x in ref), (mean, var)


def test_cdf_table_equals_scipys_cdf_exactly():
    # optimizer.candidates._cdf calls the ufuncs behind scipy.stats' poisson.cdf / nbinom.cdf directly
    # (no scipy.stats import on the way); scipy.stats itself is the reference, to the last bit, since
    # the fill-rate reorder points search tables built from these numbers.
    from scipy import stats

    from optimizer.candidates import _cdf

    g = np.random.default_rng(5)
    for _ in range(300):
        mean = float(math.exp(g.uniform(-4, 8)))
        var = mean * (1.0 if g.random() < 0.4 else float(math.exp(g.uniform(0, 4))))
        k = np.arange(int(mean + 12 * math.sqrt(var) + 10) + 1)
        if var <= mean * (1 + 1e-9):
            ref = stats.poisson.cdf(k, mean)
        else:
            n = mean * mean / (var - mean)
            ref = stats.nbinom.cdf(k, n, n / (n + mean))
        assert np.array_equal(_cdf(k, mean, var), ref), (mean, var)


def test_importing_candidates_alone_leaves_scipy_stats_out():
    # scipy.stats costs seconds of import; optimizer.candidates only needs it for quantiles beyond
    # its CDF tables and huge means. (Other modules of the optimizer package may import it: this
    # loads candidates.py alone, in a fresh interpreter.)
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import importlib.util, sys; sys.modules.setdefault('optimizer', type(sys)('optimizer'));"
            "sys.modules['optimizer'].__path__ = [%r];"
            "import optimizer.candidates; print('scipy.stats' in sys.modules)" % str(root / "optimizer"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "False", out.stderr
