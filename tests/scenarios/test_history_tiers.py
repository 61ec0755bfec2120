"""Customer tiers from the history's `customer` column (docs/demand-from-history.md, "Customer tiers
from the history"): customers ranked by annual spend and cut by spend_share, each SKU's tier_shares
from the units each tier bought, the demand fitted from the totals exactly as without customers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scenario_factory import dump

import scenarios
from scenarios.customer_tiers import RANKING_COLUMNS, customer_ranking
from scenarios.errors import ScenarioError
from scenarios.history import apply_history, read_history
from scenarios.demand_fit import fit_demand
from scenarios.schema import Fixed, Scenario, dist_mean
from tradeoff.cli import main

# A (price 2) and B (price 10) over 10 days (2024-01-01 .. 01-10), 365 periods a year: x 36.5.
#   customer  A units (spend)  B units (spend)  spend  share before it (largest first)
#   c1        50 (100)         10 (100)         200    0
#   c2        25 (50)           5 (50)          100    0.5
#   c3         -                5 (50)           50    0.75
#   c4        15 (30)           1 (10)           40    0.875
#   c5         5 (10)           -                10    0.975      total 400
ROWS = [
    ("A", "2024-01-01", "c1", 20), ("A", "2024-01-10", "c1", 30), ("B", "2024-01-05", "c1", 10),
    ("A", "2024-01-02", "c2", 25), ("B", "2024-01-02", "c2", 2), ("B", "2024-01-03", "c2", 3),
    ("B", "2024-01-04", "c3", 5),
    ("A", "2024-01-04", "c4", 10), ("A", "2024-01-06", "c4", 5), ("B", "2024-01-06", "c4", 1),
    ("A", "2024-01-09", "c5", 5),
]
THREE = [{"name": "key", "spend_share": 0.6}, {"name": "medium", "spend_share": 0.9}, {"name": "small"}]


def csv_text(rows, customer=True) -> str:
    head = "sku,date,customer,quantity" if customer else "sku,date,quantity"
    lines = [f"{s},{d},{c},{q}" if customer else f"{s},{d},{q}" for s, d, c, q in rows]
    return "\n".join([head, *lines]) + "\n"


def data(tiers=THREE, skus=None, history="h.csv", **extra) -> dict:
    d = {
        "format": 1, "name": "tiers", "transport": [{"name": "truck", "lead_time": 2}],
        "horizon": {"periods_per_year": 365},
        "customer_reaction": {"wait": 0.5, "lost_sale": 0.5},
        "skus": skus or [{"id": "A", "unit_cost": 1.0, "price": 2.0}, {"id": "B", "unit_cost": 5.0, "price": 10.0}],
        **extra,
    }
    if tiers is not None:
        d["customer_tiers"] = {"allocation": "priority", "tiers": tiers}
    if history is not None:
        d["demand_history_csv"] = history
    return d


@pytest.fixture
def load(tmp_path):
    """load(scenario_dict, rows=ROWS, customer=True, text=None) -> the loaded Scenario (history in
    h.csv: `text` as given, else the rows)."""

    def _load(d, rows=ROWS, customer=True, text=None):
        (tmp_path / "h.csv").write_text(text if text is not None else csv_text(rows, customer), encoding="utf-8")
        (tmp_path / "s.yaml").write_text(dump(d), encoding="utf-8")
        return scenarios.load(tmp_path / "s.yaml")

    return _load


def shares(sc) -> dict:
    return {s.id: dict(s.tier_shares) for s in sc.skus}


# ----------------------------------------------------------------- tiers and shares, by hand
def test_customers_cut_by_spend_share_and_sku_shares_from_units(load):
    sc = load(data())
    r = customer_ranking(sc)
    assert list(r.columns) == list(RANKING_COLUMNS)
    assert list(r["customer"]) == ["c1", "c2", "c3", "c4", "c5"]
    assert list(r["tier"]) == ["key", "key", "medium", "medium", "small"]
    assert r["annual_spend"].tolist() == pytest.approx([200 * 36.5, 100 * 36.5, 50 * 36.5, 40 * 36.5, 10 * 36.5])
    assert r["cumulative_share"].tolist() == pytest.approx([0.5, 0.75, 0.875, 0.975, 1.0])
    got = shares(sc)
    assert got["A"] == pytest.approx({"key": 75 / 95, "medium": 15 / 95, "small": 5 / 95})
    assert got["B"] == pytest.approx({"key": 15 / 21, "medium": 6 / 21, "small": 0.0})  # small bought no B
    assert list(got["B"]) == ["key", "medium", "small"]
    assert all(t.share is None for t in sc.customer_tiers.tiers)


def test_three_tiers_without_spend_share_take_the_abc_cutoffs(load):
    sc = load(data(tiers=[{"name": "key"}, {"name": "medium"}, {"name": "small"}]))
    assert list(customer_ranking(sc)["tier"]) == ["key", "key", "key", "medium", "small"]  # 0.80 / 0.95
    assert shares(sc)["B"] == pytest.approx({"key": 20 / 21, "medium": 1 / 21, "small": 0.0})
    moved = load(data(tiers=[{"name": "key"}, {"name": "medium"}, {"name": "small"}],
                      service={"abc": {"A": 0.5, "B": 0.9}}))
    assert list(customer_ranking(moved)["tier"]) == ["key", "medium", "medium", "medium", "small"]


def test_customers_cut_by_annual_spend_thresholds(load):
    # Annual spend (x 36.5): c1 7300, c2 3650, c3 1825, c4 1460, c5 365.
    sc = load(data(tiers=[{"name": "key", "min_annual_spend": 3650}, {"name": "medium", "min_annual_spend": 1500},
                          {"name": "small"}]))
    assert list(customer_ranking(sc)["tier"]) == ["key", "key", "medium", "small", "small"]
    assert shares(sc)["A"] == pytest.approx({"key": 75 / 95, "medium": 0.0, "small": 20 / 95})


def test_spend_share_and_thresholds_together_are_refused(load):
    with pytest.raises(ScenarioError, match="spend_share or min_annual_spend, not both"):
        load(data(tiers=[{"name": "key", "spend_share": 0.6, "min_annual_spend": 3650}, {"name": "small"}]))


def test_two_tiers_of_four_customers_ties_by_id(load):
    # spend: x 40 (A 20 units), y 40 (B 4), w 20 (A 10), z 0 -> x and y tie: by id; y's share
    # before it is 0.4, not below the cut-off 0.4: rest
    rows = [("A", "2024-01-01", "x", 20), ("B", "2024-01-02", "y", 4), ("A", "2024-01-03", "w", 10),
            ("B", "2024-01-03", "z", 0)]
    sc = load(data(tiers=[{"name": "big", "spend_share": 0.4}, {"name": "rest"}]), rows)
    r = customer_ranking(sc)
    assert list(r["customer"]) == ["x", "y", "w", "z"] and list(r["tier"]) == ["big", "rest", "rest", "rest"]
    assert r["annual_spend"].tolist() == pytest.approx([40 * 365 / 3, 40 * 365 / 3, 20 * 365 / 3, 0.0])
    assert shares(sc) == {"A": pytest.approx({"big": 2 / 3, "rest": 1 / 3}), "B": {"big": 0.0, "rest": 1.0}}


def test_integer_periods_scale_by_periods_per_year(load):
    rows = [("A", "0", "p", 6), ("A", "3", "q", 2), ("B", "1", "q", 1)]
    text = "sku,period,customer,quantity\n" + "".join(f"{s},{t},{c},{q}\n" for s, t, c, q in rows)
    d = data(tiers=[{"name": "big", "spend_share": 0.5}, {"name": "rest"}])
    d["horizon"] = {"periods_per_year": 52}
    r = customer_ranking(load(d, text=text))
    # 4 periods: p 12 x 52/4 = 156, q (4 + 10) x 13 = 182
    assert list(r["customer"]) == ["q", "p"] and r["annual_spend"].tolist() == pytest.approx([182.0, 156.0])
    assert list(r["tier"]) == ["big", "rest"]


def test_explicit_tier_shares_in_the_yaml_win(load):
    skus = [{"id": "A", "unit_cost": 1.0, "price": 2.0},
            {"id": "B", "unit_cost": 5.0, "price": 10.0, "tier_shares": {"key": 0.2, "medium": 0.3, "small": 0.5}}]
    got = shares(load(data(skus=skus)))
    assert got["B"] == {"key": 0.2, "medium": 0.3, "small": 0.5}
    assert got["A"] == pytest.approx({"key": 75 / 95, "medium": 15 / 95, "small": 5 / 95})


def test_tiers_with_shares_leave_the_skus_alone(load):
    sc = load(data(tiers=[{"name": "key", "share": 0.4}, {"name": "rest", "share": 0.6}]))
    assert all(s.tier_shares is None for s in sc.skus)
    assert customer_ranking(sc) is None


def test_customer_column_without_customer_tiers_is_summed_and_ignored(load):
    rows = ROWS + [("A", "2024-01-07", "bell\x07", 4)]  # not even read: no tiers take it
    sc = load(data(tiers=None), rows)
    assert all(s.tier_shares is None for s in sc.skus)
    assert customer_ranking(sc) is None
    h = read_history(sc.demand_history_csv, sc)
    assert h.customer_units is None and h.series["A"].sum() == 95 + 4


# ----------------------------------------------------------------- the demand does not change
def test_demand_with_customers_equals_demand_from_the_summed_history(tmp_path):
    g = np.random.default_rng(5)
    days = pd.date_range("2024-01-01", periods=120, freq="D").strftime("%Y-%m-%d")
    rows = [(s, d, c, int(g.poisson(3 if s == "A" else 0.4)))
            for s in ("A", "B") for d in days for c in ("k1", "k2", "m1", "s1", "s2", "s3") if g.random() < 0.5]
    frame = pd.DataFrame(rows, columns=["sku", "date", "customer", "quantity"])
    summed = frame.groupby(["sku", "date"], as_index=False)["quantity"].sum()
    with_c, without = tmp_path / "with.csv", tmp_path / "without.csv"
    with_c.write_text(csv_text(rows), encoding="utf-8")
    without.write_text("sku,date,quantity\n" + "".join(f"{r.sku},{r.date},{r.quantity}\n"
                                                         for r in summed.itertuples()), encoding="utf-8")
    tiered = Scenario.model_validate(data(history=str(with_c)))
    plain = Scenario.model_validate(data(tiers=None, history=str(without)))
    for method in ("auto", "fit", "empirical"):
        a = apply_history(tiered, with_c, "s.yaml", method)
        b = apply_history(plain, without, "s.yaml", method)
        assert [s.demand for s in a.skus] == [s.demand for s in b.skus]
        assert all(s.tier_shares is not None for s in a.skus)
    ha, hb = read_history(with_c, tiered), read_history(without, plain)
    assert ha.periods == hb.periods and all(np.array_equal(ha.series[k], hb.series[k]) for k in ("A", "B"))


# ----------------------------------------------------------------- each tier's own demand model
def test_each_tier_gets_the_model_fitted_to_its_customers_sales(load):
    # Tiers of ROWS: key = c1, c2; medium = c3, c4; small = c5 (first test). Their series by hand,
    # over the 10 days 01-01 .. 01-10 (index 0 .. 9):
    by_hand = {
        "A": {"key": {0: 20, 9: 30, 1: 25}, "medium": {3: 10, 5: 5}, "small": {8: 5}},
        "B": {"key": {4: 10, 1: 2, 2: 3}, "medium": {3: 5, 5: 1}, "small": {}},
    }
    sc = load(data())
    assert sc.customer_tiers.demand == "own"
    for sku in sc.skus:
        assert list(sku.tier_demand) == ["key", "medium", "small"]
        for name, days in by_hand[sku.id].items():
            x = np.zeros(10)
            for day, q in days.items():
                x[day] = q
            model = sku.tier_demand[name]
            if not days:
                assert model == Fixed(value=0)  # a tier that bought none of it: demand 0
                continue
            assert model == fit_demand(x).model, (sku.id, name)
            assert dist_mean(model) == pytest.approx(x.mean()), (sku.id, name)  # the fit keeps the mean
        # the SKU's own model is still the one of its summed sales
        assert sku.demand == fit_demand(read_history(sc.demand_history_csv, sc).series[sku.id]).model


def test_a_sku_with_its_own_tier_demand_takes_the_shares_of_its_tiers_means():
    sc = Scenario.model_validate({
        "format": 1, "name": "shares", "transport": [{"name": "truck", "lead_time": 1}],
        "customer_tiers": {"tiers": [{"name": "key", "share": 0.7}, {"name": "rest", "share": 0.3}]},
        "skus": [{"id": "own", "unit_cost": 1.0, "price": 2.0, "demand": {"dist": "poisson", "mean": 4},
                  "tier_demand": {"key": {"dist": "poisson", "mean": 1}, "rest": {"dist": "poisson", "mean": 3}}},
                 {"id": "given", "unit_cost": 1.0, "price": 2.0, "demand": {"dist": "poisson", "mean": 4},
                  "tier_demand": {"key": {"dist": "poisson", "mean": 1}, "rest": {"dist": "poisson", "mean": 3}},
                  "tier_shares": {"key": 0.5, "rest": 0.5}},
                 {"id": "thin", "unit_cost": 1.0, "price": 2.0, "demand": {"dist": "poisson", "mean": 4}}],
    })
    own, given, thin = sc.skus
    assert sc.tier_shares(own) == pytest.approx((0.25, 0.75))  # the means, not the tiers' 0.7 / 0.3
    assert sc.tier_shares(given) == (0.5, 0.5)  # the SKU's own shares win
    assert sc.tier_shares(thin) == (0.7, 0.3) and sc.tier_demands(thin) is None


def test_thinned_tiers_get_no_models_of_their_own(load):
    d = data()
    d["customer_tiers"]["demand"] = "thinned"
    sc = load(d)
    assert all(s.tier_demand is None for s in sc.skus)
    assert all(sc.tier_demands(s) is None for s in sc.skus)


def test_simulated_tier_demand_is_each_tiers_own_model():
    # Key accounts order 40 units in one period of 10, small accounts 1 unit 4 times a period: the
    # same mean demand per tier. Each tier's simulated demand per period and order size must be its
    # own model's (law of large numbers, 4.5 standard errors); thinned, both tiers' orders are the
    # SKU's, of one size distribution, so their mean order sizes agree.
    from simulation import evaluate

    key = {"dist": "compound", "orders": {"dist": "poisson", "mean": 0.1}, "size": 40}
    small = {"dist": "compound", "orders": {"dist": "poisson", "mean": 4.0}, "size": 1}
    base = {
        "format": 1, "name": "own", "seed": 3, "replications": 4, "horizon": {"periods": 5000, "warmup": 10},
        "transport": [{"name": "truck", "lead_time": 1}],
        "customer_reaction": {"wait": 0.0, "lost_sale": 1.0},
        "skus": [{"id": "x", "unit_cost": 1.0, "price": 2.0,
                  "demand": {"dist": "poisson", "mean": 8.0},  # the tiers' total: 0.1 x 40 + 4 x 1
                  "tier_demand": {"key": key, "small": small}}],
        "customer_tiers": {"tiers": [{"name": "key", "share": 0.5}, {"name": "small", "share": 0.5}]},
    }
    pol = pd.DataFrame([dict(sku="x", family="base_stock", mode="truck", s=np.nan, S=12.0, Q=np.nan, R=1,
                             cap=np.nan, critical_level=0.0)])
    row = evaluate(Scenario.model_validate(base), pol, engine="kernel").iloc[0]
    n = 5000 * 4
    for k, (mean, var) in enumerate(((4.0, 0.1 * 40**2), (4.0, 4.0))):
        assert abs(row[f"t{k}_demand_per_period"] - mean) <= 4.5 * np.sqrt(var / n), (k, row[f"t{k}_demand_per_period"])
    # a 40-unit order is often short where 1-unit orders are not (partial shipments, lost rest)
    assert row["t0_fill_rate"] < row["t1_fill_rate"] - 0.05
    thinned = dict(base, customer_tiers=dict(base["customer_tiers"], demand="thinned"))
    thinned["skus"] = [{k: v for k, v in base["skus"][0].items() if k != "tier_demand"}]
    row = evaluate(Scenario.model_validate(thinned), pol, engine="kernel").iloc[0]
    assert abs(row["t0_fill_rate"] - row["t1_fill_rate"]) < 0.02


# ----------------------------------------------------------------- refused, naming file and path
def test_control_character_in_a_customer_id_is_refused(load):
    rows = ROWS[:1] + [("A", "2024-01-02", "c\x072", 25)] + ROWS[2:]
    with pytest.raises(ScenarioError) as e:
        load(data(), rows)
    (p,) = e.value.problems
    assert (p.file, p.path) == ("h.csv", "demand_history_csv[3].customer")
    assert "control character U+0007 at position 2" in p.rule and "\x07" not in str(e.value)


def test_control_character_customer_exits_2_from_the_cli(load, tmp_path, monkeypatch, capsys):
    rows = ROWS + [("B", "2024-01-08", "ok\u202eevil", 1), ("A", "2024-01-08", " ", 1)]
    (tmp_path / "h.csv").write_text(csv_text(rows), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(dump(data()), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["tradeoff", "validate", str(tmp_path / "s.yaml")])
    with pytest.raises(SystemExit) as e:
        main()
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert "h.csv: demand_history_csv[13].customer: " in err and "U+202E" in err
    assert "h.csv: demand_history_csv[14].customer: is empty" in err


def test_no_customer_column_names_the_scenario_file_and_each_sku(load):
    with pytest.raises(ScenarioError) as e:
        load(data(), customer=False)
    got = [(p.file, p.path) for p in e.value.problems]
    assert [path for _, path in got] == ["skus[0].tier_shares", "skus[1].tier_shares"]
    assert all(f.endswith("s.yaml") for f, _ in got)
    assert "h.csv has no customer column" in e.value.problems[0].rule


def test_no_history_and_no_shares_names_the_file_and_path(load, tmp_path):
    d = data(history=None, skus=[{"id": "A", "unit_cost": 1.0, "price": 2.0, "demand": 3}])
    with pytest.raises(ScenarioError) as e:
        load(d)
    (p,) = e.value.problems
    assert p.file.endswith("s.yaml") and p.path == "skus[0].tier_shares"


def test_no_customer_column_is_fine_when_every_sku_has_tier_shares(load):
    skus = [{"id": i, "unit_cost": 1.0, "price": 2.0, "tier_shares": {"key": 0.5, "medium": 0.5, "small": 0.0}}
            for i in ("A", "B")]
    sc = load(data(skus=skus), customer=False)
    assert shares(sc)["A"] == {"key": 0.5, "medium": 0.5, "small": 0.0}


def test_spend_share_needed_unless_three_tiers(load):
    with pytest.raises(ScenarioError) as e:
        load(data(tiers=[{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}]))
    paths = [p.path for p in e.value.problems]
    assert paths == [f"customer_tiers.tiers[{i}].spend_share" for i in range(3)]
    assert all(p.file.endswith("s.yaml") for p in e.value.problems)


def test_sku_without_units_and_without_tier_shares_is_refused(load):
    skus = [{"id": "A", "unit_cost": 1.0, "price": 2.0}, {"id": "B", "unit_cost": 5.0, "price": 10.0},
            {"id": "N", "unit_cost": 1.0, "price": 2.0, "demand": 1}]
    with pytest.raises(ScenarioError) as e:
        load(data(skus=skus))
    (p,) = e.value.problems
    assert p.path == "skus[2].tier_shares" and "no units of SKU 'N'" in p.rule


def test_sku_without_a_sale_gets_demand_zero_and_equal_tier_shares(load):
    # Issue 15: rows but no sale is no demand (no stock), not a refusal, with tiers from the history too
    skus = [{"id": "A", "unit_cost": 1.0, "price": 2.0}, {"id": "B", "unit_cost": 5.0, "price": 10.0},
            {"id": "Z", "unit_cost": 1.0, "price": 2.0}]
    sc = load(data(skus=skus), ROWS + [("Z", "2024-01-03", "c2", 0)])
    z = sc.skus[2]
    assert z.demand.dist == "fixed" and z.demand.value == 0
    assert dict(z.tier_shares) == pytest.approx({"key": 1 / 3, "medium": 1 / 3, "small": 1 / 3})
    assert shares(sc)["A"] == pytest.approx({"key": 75 / 95, "medium": 15 / 95, "small": 5 / 95})


def test_bad_rows_and_tier_problems_are_reported_together(load):
    rows = ROWS + [("A", "2024-01-08", "c1", -1)]
    with pytest.raises(ScenarioError) as e:
        load(data(tiers=[{"name": "a"}, {"name": "b"}]), rows)
    paths = [p.path for p in e.value.problems]
    assert paths == ["demand_history_csv[13].quantity", "customer_tiers.tiers[0].spend_share"]


# ----------------------------------------------------------------- the shipped example
EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"


def test_key_accounts_example_is_the_seeded_script_output_and_loads():
    spec = importlib.util.spec_from_file_location("make_key_accounts", EXAMPLES / "data" / "make_key_accounts.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    cat, _, sales = m.history()
    assert m.csv_text(sales).encode("utf-8") == (EXAMPLES / "data" / "key_accounts_history.csv").read_bytes()
    assert sales["customer"].nunique() == 40 and sales["sku"].nunique() == 12
    sc = scenarios.load(EXAMPLES / "key_accounts.yaml")
    assert sc.customer_tiers.allocation == "critical_level" and sc.customer_tiers.names() == ("key", "medium", "small")
    assert all(s.demand is not None and s.tier_shares is not None for s in sc.skus)
    r = customer_ranking(sc)
    counts = r["tier"].value_counts().to_dict()
    assert counts == {"key": 5, "medium": 9, "small": 26}  # a few large accounts buy most
    spend = r.groupby("tier")["annual_spend"].sum() / r["annual_spend"].sum()
    assert 0.6 <= spend["key"] < 0.7
    header = "\n".join(f"# {line}".rstrip() for line in m.tier_summary(cat, sales).splitlines())
    assert header in (EXAMPLES / "key_accounts.yaml").read_text(encoding="utf-8")  # the header is up to date
