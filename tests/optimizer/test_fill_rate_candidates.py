"""Fill-rate candidates: the textbook fill-rate reorder point against a brute-force expected shortage
per cycle, and an exchange curve that spans its levels when lots are large (the cycle-service-level
ladder alone gives ~99 % fill at every level there, so every target got the same plan)."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import optimizer
import simulation
from optimizer.candidates import POLICY_COLUMNS, fill_levels, fill_rate_reorder_point, initial_candidates
from optimizer.refine import frontier_neighbours
from scenarios.schema import Scenario


def brute_force_reorder_point(pmf: np.ndarray, lot: float, beta: float) -> int:
    """Smallest whole r with sum_x max(x - r, 0) p(x) <= (1 - beta) * lot, by direct summation over
    every demand value x and every candidate r (no loss-function identity)."""
    x = np.arange(len(pmf))
    allowed = (1.0 - beta) * lot
    for r in range(-int(lot) - len(pmf) - 2, len(pmf) + 2):
        if float(np.sum(np.maximum(x - r, 0) * pmf)) <= allowed + 1e-12:
            return r
    raise AssertionError("no reorder point found")


@pytest.mark.parametrize("mean", [0.7, 4.0, 15.0, 60.0])
@pytest.mark.parametrize("lot", [1, 8, 40, 400])
def test_fill_rate_reorder_point_matches_brute_force_poisson(mean, lot):
    pmf = stats.poisson.pmf(np.arange(int(mean + 20 * math.sqrt(mean) + 30)), mean)
    for beta in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        assert fill_rate_reorder_point(mean, mean, lot, beta) == brute_force_reorder_point(pmf, lot, beta), beta


def test_fill_rate_reorder_point_matches_brute_force_negative_binomial():
    mean, var = 20.0, 90.0
    n = mean * mean / (var - mean)
    pmf = stats.nbinom.pmf(np.arange(400), n, n / (n + mean))
    for lot in (5, 60, 300):
        for beta in (0.7, 0.9, 0.98):
            assert fill_rate_reorder_point(mean, var, lot, beta) == brute_force_reorder_point(pmf, lot, beta)


def test_large_lot_gives_a_negative_reorder_point():
    # Expected shortage allowed per cycle (1 - 0.85) * 400 = 60 exceeds the lead-time demand 20:
    # E[(X - r)+] = 20 - r for r <= 0, so r = -40.
    assert fill_rate_reorder_point(20.0, 20.0, 400, 0.85) == -40


LEVELS = [0.85, 0.88, 0.9, 0.92, 0.95, 0.97, 0.99]


def big_lot_scenario(wait: float = 1.0) -> Scenario:
    """2 SKUs, Poisson demand, lead time 4, a fixed cost per order making the EOQ ~7 weeks of demand,
    and a shortage cost so high that the critical fractile is ~0.9995."""
    return Scenario.model_validate({
        "format": 1, "name": "biglot", "seed": 11,
        "horizon": {"periods": 1500, "warmup": 100, "periods_per_year": 365},
        "replications": 3,
        "costs": {"carrying_rate": 0.25, "order_cost": 80.0, "backorder_per_unit": 15.0, "lost_sale": 15.0},
        "customer_reaction": {"wait": wait, "lost_sale": 1.0 - wait},
        "transport": [{"name": "truck", "lead_time": 4, "cost_per_shipment": 20.0}],
        "service": {"metric": "fill_rate", "frontier": LEVELS},
        "policies": {"families": ["sS", "rQ"], "review_periods": [0]},
        "skus": [{"id": "a", "unit_cost": 10.0, "price": 25.0, "demand": {"dist": "poisson", "mean": 10.0}},
                 {"id": "b", "unit_cost": 6.0, "price": 15.0, "demand": {"dist": "poisson", "mean": 4.0}}],
    })


@pytest.fixture(scope="module")
def curve():
    sc = big_lot_scenario()
    cands = initial_candidates(sc)
    ev = simulation.evaluate(sc, cands, engine="kernel")
    return sc, cands, ev, optimizer.frontier(sc, ev)


def test_candidate_count_stays_bounded(curve):
    sc, cands, _, _ = curve
    assert fill_levels(sc) == tuple(LEVELS)
    # 80 from the grid and the fill-rate rows, 6 analytic seeds (optimizer.seeds: the sS and the rQ
    # optimum, and two more around each)
    assert cands.groupby("sku").size().max() <= 86


def test_frontier_spans_the_levels_and_cost_falls_with_the_target(curve):
    sc, _, ev, fr = curve
    # The setting that made the curve flat: the cycle-service-level grid alone has no low fill rate.
    grid = initial_candidates(sc, fill_per_sku=0).merge(ev, on=POLICY_COLUMNS)
    assert grid.groupby("sku")["fill_rate"].min().min() > 0.95
    rows = fr[~fr["cost_optimal"]].sort_values("target")
    assert list(rows["target"]) == LEVELS
    gaps = rows["achieved"].to_numpy() - rows["target"].to_numpy()
    assert np.all(gaps >= -1e-9)
    assert np.all(gaps <= 0.015), dict(zip(rows["target"], rows["achieved"]))
    log = rows["cost_logistics"].to_numpy()
    assert np.all(np.diff(log) >= -1e-9)  # cheaper (or equal) as the target falls
    assert log[0] < log[-1] - 1e-6


def test_frontier_neighbours_step_around_each_level(curve):
    sc, _, ev, _ = curve
    plans = optimizer.frontier_plans(sc, ev)
    assert [p.target for p in plans] == [None, *LEVELS]
    new = frontier_neighbours(sc, ev, plans)
    assert len(new) and not new.duplicated().any()
    seen = set(map(tuple, ev[["sku", "family", "s", "S", "Q"]].fillna(-1e9).to_numpy().tolist()))
    assert not any(tuple(r) in seen for r in new[["sku", "family", "s", "S", "Q"]].fillna(-1e9).to_numpy().tolist())
    # Every chosen reorder point at every level gets a neighbour one step below it (s may go negative:
    # customers wait, so a backlog can build).
    for p in plans:
        for r in p.choice.itertuples(index=False):
            same = new[(new["sku"] == r.sku) & (new["family"] == r.family)]
            assert (same["s"] < r.s).any(), (p.target, r.sku, r.family, r.s)
    assert (new["s"] < 0).any()


def test_without_a_backlog_reorder_points_stay_at_or_above_zero():
    sc = big_lot_scenario(wait=0.0)
    cands = initial_candidates(sc)
    assert cands["s"].min() >= 0
    assert (cands["s"] == 0).any()  # the fill-rate points that would be negative are clamped at 0


def test_frontier_cost_never_rises_as_the_target_falls_even_with_a_loose_gap():
    """With a 5 % MIP gap each level's solve may stop at a plan dearer than a higher level's (which
    also meets the lower target); the frontier then takes the cheaper plan for the lower level."""
    sys.path.insert(0, os.path.dirname(__file__))
    import synthetic  # tests/optimizer/synthetic.py: evaluations without simulating

    sc = synthetic.scenario(40)
    ev = synthetic.evaluations(sc, 25)
    levels = [round(x, 2) for x in np.arange(0.80, 0.991, 0.01)]
    fr = optimizer.frontier(sc, ev, levels=levels, mip_gap=0.05, method="milp")
    rows = fr[~fr["cost_optimal"]].sort_values("target", kind="stable")
    assert list(rows["target"]) == levels
    assert np.all(rows["achieved"].to_numpy() >= rows["target"].to_numpy() - 1e-9)
    assert np.all(np.diff(rows["cost_logistics"].to_numpy()) >= -1e-9)
    # The frontier's cost is never above a plain selection's at the same level (that one is feasible too).
    for level in (0.8, 0.9, 0.95):
        plan = optimizer.select(sc, ev, target=level, mip_gap=0.05, method="milp")
        assert rows.loc[rows["target"] == level, "cost_logistics"].iloc[0] <= plan.cost_logistics + 1e-9


def test_fill_rate_reorder_point_for_a_huge_poisson_mean_is_normal_and_cheap():
    """Protection-period demand of 1e9 units (Poisson): the reorder point comes from the normal loss
    function (sd = sqrt(mean)) without building a loss table of a billion entries. For fill rate
    beta and lot q, E[(X - s)+] = sd * L(z) <= (1 - beta) q; check against the normal loss directly."""
    import math

    from scipy import stats

    from optimizer.candidates import _loss_table, fill_rate_reorder_point

    mean, lot, beta = 1e9, 2e6, 0.99
    tables_before = _loss_table.cache_info().misses
    s = fill_rate_reorder_point(mean, mean, lot, beta)
    assert _loss_table.cache_info().misses == tables_before  # no exact table (1e9 floats, 8 GB) was built
    sd = math.sqrt(mean)

    def loss(r):
        z = (r - mean) / sd
        return sd * (stats.norm.pdf(z) - z * stats.norm.sf(z))

    allowed = (1 - beta) * lot
    assert loss(s) <= allowed + 1e-6 and loss(s - 2) > allowed


def test_fill_rate_rows_take_the_ways_round_robin_by_the_documented_cost():
    # optimizer.candidates._fill_rate_rows ranks all ways at all levels at once (arrays); here each
    # way and level is priced one at a time by the formula its docstrings state (ordering and vehicles
    # per order over the orders per period, transport per unit, pipeline carrying, carrying and
    # warehousing of lot/2 + level - protection demand + shortage per cycle), with the reorder point
    # of fill_rate_reorder_point (held to brute force above), and taken round robin.
    from optimizer.candidates import _fill_rate_rows, _undershoot

    sc = Scenario.model_validate({
        "format": 1, "name": "ways",
        "costs": {"carrying_rate": 0.25, "order_cost": 80.0, "backorder_per_unit": 15.0, "lost_sale": 15.0},
        "customer_reaction": {"wait": 0.5, "lost_sale": 0.5},
        "transport": [{"name": "truck", "lead_time": {"dist": "gamma", "mean": 4, "cv": 0.3}, "cost_per_shipment": 200.0,
                       "cost_per_unit": 0.1, "vehicle_capacity": 60},
                      {"name": "air", "lead_time": 1, "cost_per_shipment": 20.0, "cost_per_unit": 1.5}],
        "service": {"metric": "fill_rate", "frontier": LEVELS},
        "policies": {"families": ["sS", "rQ", "RS"], "review_periods": [0, 7]},
        "skus": [{"id": "a", "unit_cost": 10.0, "price": 25.0, "demand": {"dist": "negbin", "mean": 10.0, "cv": 0.8}}],
    })
    sku = sc.skus[0]
    mu, var = 10.0, 64.0
    ways = []
    for family, R, lots in (("sS", 0, (30, 90, 250)), ("rQ", 0, (45, 120)), ("RS", 7, (70,))):
        for name in ("truck", "air"):
            mode = sc.mode(name)
            lt_mean, lt_var = (4.0, (0.3 * 4) ** 2) if name == "truck" else (1.0, 0.0)
            P = max(lt_mean, 1.0) if R == 0 else lt_mean + R
            ways += [(family, mode, R, lot, mu * P, var * P + mu * mu * lt_var) for lot in lots]
    h = sc.holding_per_unit_period(sku) + sc.costs.warehousing.per_unit_period

    def cost(way, beta):
        family, mode, R, lot, ltd_mean, ltd_var = way
        level = fill_rate_reorder_point(ltd_mean, ltd_var, lot, beta)
        level = max(level, 0) if family == "RS" else level  # customers wait: a backlog can build
        per_order = max(lot + _undershoot(family, R, mu, var), mu * R, 1e-9)
        vehicles = math.ceil(per_order / mode.vehicle_capacity) if mode.vehicle_capacity else 1
        on_hand = max(0.0, per_order / 2 + level - ltd_mean + (1 - beta) * lot)
        return (mu / per_order * (sc.costs.order_cost + vehicles * mode.cost_per_shipment) + mu * mode.cost_per_unit
                + sc.in_transit_per_unit_period(sku) * mu * (4.0 if mode.name == "truck" else 1.0) + h * on_hand), level

    expected = []
    ranked = []
    for beta in LEVELS:
        priced = [(*cost(w, beta), i) for i, w in enumerate(ways)]
        ranked.append(sorted(priced, key=lambda x: (x[0], x[2])))
    for depth in range(len(ways)):
        for per_level in ranked:
            _, level, i = per_level[depth]
            family, mode, R, lot = ways[i][:4]
            row = ((level, level + lot, None) if family == "sS" else (level, None, lot) if family == "rQ"
                   else (None, level, None))
            if (family, mode.name, R, row) not in expected:
                expected.append((family, mode.name, R, row))
    budget = 20
    got = [(f, m, R, tuple(None if isinstance(x, float) and math.isnan(x) else x for x in (s, S, Q)))
           for _, f, m, s, S, Q, R, _ in _fill_rate_rows(sc, sku, ways, tuple(LEVELS), budget)]
    assert got == expected[:budget]


def test_least_logistics_rows_are_the_sorted_tables_first_per_sku():
    """aimed_at_levels starts from each SKU's row of least logistics cost: the first row per SKU of
    the table sorted (stable) by cost_total - cost_shortage, NaN last, ties in row order."""
    from optimizer.candidates import _least_logistics

    rng = np.random.default_rng(12)
    n = 300
    table = pd.DataFrame(dict(
        sku=rng.choice(["a", "b", "c", "d"], n), family=rng.choice(["sS", "rQ"], n), mode="truck",
        s=rng.integers(0, 9, n) * 1.0, S=rng.integers(9, 20, n) * 1.0, Q=np.nan, R=rng.integers(0, 2, n),
        fill_rate=rng.random(n), cost_total=np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 5, n) * 1.0),
        cost_shortage=rng.choice([0.0, -0.0, 1.0], n), other=rng.random(n)))
    table.loc[table["sku"] == "d", "cost_total"] = np.nan  # a SKU whose every cost is missing
    expected = (table.assign(_l=table["cost_total"] - table["cost_shortage"]).sort_values("_l", kind="stable")
                .drop_duplicates("sku")[["sku", "family", "mode", "s", "S", "Q", "R", "fill_rate"]])
    pd.testing.assert_frame_equal(_least_logistics(table), expected)


def test_searches_settled_in_the_table_head_equal_the_whole_table_searches():
    """Quantiles and fill-rate reorder points read off the head of the CDF table (_cdf_head) when it
    settles the search: they must equal the searches over the whole table (the definition before the
    head: np.searchsorted over _cdf_table / _loss_table), for Poisson and negative-binomial totals,
    small and large, levels up to 0.9999 and allowed shortages from 1e-6 units up; the head must be the
    whole table's first entries bit for bit."""
    import numpy as np

    from optimizer.candidates import _cdf_head, _cdf_table, _loss_table, _quantiles, _reorder_points

    rng = np.random.default_rng(3)
    levels = (0.5, 0.7, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)
    settled = 0
    for _ in range(400):
        mean = float(rng.choice([rng.uniform(0.01, 3), rng.uniform(3, 60), rng.uniform(60, 3000)]))
        var = float(mean * rng.choice([1.0, rng.uniform(1.0, 2.0), rng.uniform(2.0, 40.0)]))
        full, head = _cdf_table(mean, var), _cdf_head(mean, var)
        assert head.tobytes() == full[:len(head)].tobytes()
        idx = np.searchsorted(full, levels, side="left")
        if idx.max() < len(full):
            settled += 1
            assert _quantiles(mean, var, levels) == tuple(idx.tolist())
        b = np.concatenate([[1e-6, 1e-3], rng.uniform(0, mean, 6), rng.uniform(0, 0.01 * mean, 4)])
        loss = _loss_table(mean, var)
        expected = np.ceil(mean - b - 1e-9).astype(np.int64)
        pos = b < mean
        expected[pos] = np.minimum(np.searchsorted(-loss, -(b[pos] + 1e-12), side="left"), len(loss) - 1)
        assert _reorder_points(mean, var, b).tolist() == expected.tolist()
    assert settled > 300
