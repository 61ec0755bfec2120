"""Demand history CSV -> per-period series -> demand models; every bad row named at once."""

from pathlib import Path

import numpy as np
import pytest

from scenarios.errors import ScenarioError
from scenarios.history import (TABLE_COLUMNS, apply_history, demand_model_table, history_warnings, period_rule,
                               read_history)
from scenarios.schema import Fixed, Scenario, dist_mean


def scenario(skus, ppy=365, csv="history.csv"):
    return Scenario.model_validate({
        "format": 1, "name": "h", "transport": [{"name": "truck", "lead_time": 2}],
        "horizon": {"periods_per_year": ppy}, "skus": skus, "demand_history_csv": csv,
    })


def sku(i, **kw):
    return {"id": i, "unit_cost": 2.0, "price": 3.0, **kw}


def write(tmp_path: Path, text: str, name="history.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ----------------------------------------------------------------- aggregation to the scenario period
def test_days_to_weeks_monday_to_sunday_partial_edges_dropped(tmp_path):
    # 2024-01-03 is a Wednesday: its week (Jan 1-7) is partial and dropped; Jan 8-14 and 15-21 are
    # full; 2024-01-22 starts a week that the data does not cover to Sunday: dropped too.
    p = write(tmp_path, "sku,date,quantity\n"
              "A,2024-01-03,100\n"
              "A,2024-01-08,1\nA,2024-01-14,2\nA,2024-01-14,3\n"   # week 0: 6 (same day summed)
              "B,2024-01-16,4\n"                                     # week 1 for B; A has 0 there
              "A,2024-01-21,5\n"                                     # Sunday: still week 1
              "B,2024-01-22,50\n")
    h = read_history(p, scenario([sku("A"), sku("B")], ppy=52), "s.yaml")
    assert h.periods == 2 and h.first.startswith("2024-01-08") and "dropped" in h.bucket
    assert h.series["A"].tolist() == [6.0, 5.0]
    assert h.series["B"].tolist() == [0.0, 4.0]


def test_days_to_months_and_days(tmp_path):
    rows = ["sku,date,quantity"] + [f"A,2024-{m:02d}-{d:02d},1" for m in (1, 2, 3) for d in (1, 15, 28)]
    rows += ["A,2024-03-31,10"]
    p = write(tmp_path, "\n".join(rows) + "\n")
    h = read_history(p, scenario([sku("A")], ppy=12), "s.yaml")
    assert h.series["A"].tolist() == [3.0, 3.0, 13.0]
    d = read_history(p, scenario([sku("A")], ppy=365), "s.yaml")
    assert d.periods == 91  # Jan 1 .. Mar 31 2024 (leap year), zeros filled
    assert d.series["A"].sum() == 19.0 and (d.series["A"] > 0).sum() == 10


def test_integer_periods_fill_gaps_with_zero(tmp_path):
    p = write(tmp_path, "sku,period,quantity\nA,3,2\nA,7,5\nB,5,1\nA,3,1\n")
    h = read_history(p, scenario([sku("A"), sku("B")]), "s.yaml")
    assert h.series["A"].tolist() == [3, 0, 0, 0, 5]
    assert h.series["B"].tolist() == [0, 0, 1, 0, 0]


def test_period_rule():
    assert period_rule(365) == ("pandas", "D")
    assert period_rule(52) == ("pandas", "W-SUN")
    assert period_rule(12) == ("pandas", "M")
    assert period_rule(26) == ("days", 14)


# ----------------------------------------------------------------- models from history
def test_apply_history_keeps_explicit_demand_and_fits_the_rest(tmp_path):
    g = np.random.default_rng(1)
    lines = ["sku,period,quantity"]
    a_hist = g.poisson(6.0, 400)
    lines += [f"A,{t},{q}" for t, q in enumerate(a_hist)]
    lines += [f"B,{t},{q}" for t, q in enumerate((g.random(400) < 0.2) * g.integers(1, 9, 400)) if q > 0]
    lines += [f"C,{t},{q}" for t, q in enumerate(g.poisson(3.0, 400))]
    p = write(tmp_path, "\n".join(lines) + "\n")
    sc = scenario([sku("A"), sku("B"), sku("C", demand={"dist": "poisson", "mean": 99})])
    out = apply_history(sc, p, "s.yaml")
    a, b, c = out.skus
    assert a.demand.dist == "poisson" and a.demand.mean == pytest.approx(a_hist.mean())
    assert b.demand.dist == "compound"
    assert c.demand.dist == "poisson" and c.demand.mean == 99  # explicit kept
    assert out.demand_history_csv == str(p)
    t = demand_model_table(out)
    assert list(t.columns) == list(TABLE_COLUMNS)
    assert t["demand_source"].tolist() == ["history", "history", "explicit"]
    assert t["demand_model"].tolist() == ["poisson", "compound", "poisson"]
    assert t.loc[1, "demand_pattern"] in ("intermittent", "lumpy")
    assert t.loc[0, "mean"] == pytest.approx(t.loc[0, "model_mean"])
    assert t.loc[2, "model_mean"] == 99 and t.loc[2, "demand_pattern"] == "smooth"
    assert "ADI" in t.loc[1, "demand_reason"]
    assert demand_model_table(sc.model_copy(update={"demand_history_csv": None})) is None


def test_history_mean_becomes_model_mean(tmp_path):
    # dates at day level; A sells 2 units every day of a 10-day window, with one 12-unit day
    rows = ["sku,date,quantity"] + [f"A,2025-03-{d:02d},{12 if d == 5 else 2}" for d in range(1, 11)]
    p = write(tmp_path, "\n".join(rows) + "\n")
    out = apply_history(scenario([sku("A")]), p, "s.yaml")
    assert dist_mean(out.skus[0].demand) == pytest.approx(3.0)


# ----------------------------------------------------------------- errors, all at once
def test_every_bad_row_named_at_once(tmp_path):
    p = write(tmp_path, "sku,date,quantity\n"
              "A,2024-01-01,3\n"
              "A,2024-01-02,-1\n"       # line 3: negative
              "A,2024-02-30,2\n"        # line 4: no such date
              "ZZ,2024-01-03,1\n"       # line 5: a SKU the scenario does not plan: ignored, not a problem
              "ZZ,2024-01-04,x\n"       # (its rows are not checked either)
              "A,2024-01-05,lots\n")    # line 7: not a number
    sc = scenario([sku("A"), sku("B"), sku("C", demand=4)])
    with pytest.raises(ScenarioError) as e:
        apply_history(sc, p, "plan.yaml")
    msgs = [str(x) for x in e.value.problems]
    assert "history.csv: demand_history_csv[3].quantity: -1.0 is negative" in msgs[0]
    assert any("[4].date: '2024-02-30' is not a date" in m for m in msgs)
    assert not any("ZZ" in m or "[5]" in m or "[6]" in m for m in msgs)
    assert any("[7].quantity: 'lots' is not a number" in m for m in msgs)
    assert any(m.startswith("plan.yaml: skus[1].demand: missing") and "'B'" in m for m in msgs)
    assert not any("skus[2]" in m for m in msgs)  # C has explicit demand
    assert len(msgs) == 4


def test_missing_columns_and_non_utf8(tmp_path):
    p = write(tmp_path, "item,day,qty\nA,1,2\n")
    with pytest.raises(ScenarioError) as e:
        read_history(p, scenario([sku("A")]), "s.yaml")
    assert "misses column(s) sku, quantity, period or date" in str(e.value)
    q = tmp_path / "latin.csv"
    q.write_bytes("sku,period,quantity\nA,1,2\nCafé,2,3\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as e:
        read_history(q, scenario([sku("A")]), "s.yaml")
    assert "latin.csv: demand_history_csv[3]: byte 0xe9" in str(e.value) and "not UTF-8" in str(e.value)
    with pytest.raises(ScenarioError) as e:
        read_history(tmp_path / "nope.csv", scenario([sku("A")]), "s.yaml")
    assert "cannot be read" in str(e.value)


def test_history_without_positive_demand_gives_demand_zero(tmp_path):
    # Issue 15: a SKU whose history has rows but no sale gets demand 0 ("no demand: no stock"),
    # not a refusal of the whole scenario; a SKU with no row at all is still refused.
    p = write(tmp_path, "sku,period,quantity\nA,1,0\nA,2,0\nB,1,3\nB,4,2\n")
    out = apply_history(scenario([sku("A"), sku("B")]), p, "s.yaml")
    assert out.skus[0].demand == Fixed(value=0)
    assert dist_mean(out.skus[1].demand) == pytest.approx(5 / 4)
    t = demand_model_table(out).set_index("sku")
    assert t.loc["A", "demand_reason"] == "no demand in the history: no stock"
    assert (t.loc["A", "demand_source"], t.loc["A", "demand_model"], t.loc["A", "demand_pattern"]) == \
        ("history", "fixed", "none")
    assert t.loc["A", "model_mean"] == 0 and t.loc["A", "history_periods"] == 4
    with pytest.raises(ScenarioError) as e:
        apply_history(scenario([sku("A"), sku("B"), sku("C")]), p, "s.yaml")
    assert [str(m) for m in e.value.problems] == [
        "s.yaml: skus[2].demand: missing, and history.csv has no history for SKU 'C' (give demand or add its rows)"]


def test_history_skus_the_scenario_does_not_plan_are_a_warning(tmp_path):
    # Issue 15: ids in the history the scenario does not plan are ignored (rows not checked, not in
    # the window) and named once in one warning line with their row counts, in file order.
    p = write(tmp_path, "sku,period,quantity\nOLD,0,9\nA,3,2\nZZ,4,-1\nA,5,4\nOLD,9,1\nZZ,bad,1\n")
    sc = scenario([sku("A")])
    out = apply_history(sc, p, "s.yaml")
    h = read_history(p, sc, "s.yaml")
    assert h.series["A"].tolist() == [2, 0, 4]  # the window is A's: periods 3..5
    assert h.unplanned == (("OLD", 2, 2), ("ZZ", 2, 4))
    assert history_warnings(out) == [
        "history.csv: 2 SKUs in the history are not planned by the scenario and ignored: 'OLD' (2 rows), 'ZZ' (2 rows)"]
    assert history_warnings(out.model_copy(update={"demand_history_csv": None})) == []


def test_many_bad_rows_are_capped_with_a_count(tmp_path):
    p = write(tmp_path, "sku,period,quantity\n" + "".join(f"A,{t},-1\n" for t in range(30)) + "A,31,2\n")
    with pytest.raises(ScenarioError) as e:
        read_history(p, scenario([sku("A")]), "s.yaml")
    assert len(e.value.problems) == 21
    assert "... and 10 more rows with a negative quantity" in str(e.value.problems[-1])


def test_table_names_the_method_that_built_the_demand(tmp_path):
    g = np.random.default_rng(8)
    p = write(tmp_path, "sku,period,quantity\n" + "".join(f"A,{t},{q}\n" for t, q in enumerate(g.poisson(4, 200))))
    out = apply_history(scenario([sku("A")]), p, "s.yaml", method="empirical")
    t = demand_model_table(out)
    assert t.loc[0, "demand_source"] == "history" and t.loc[0, "demand_model"] == "empirical"
    assert "method empirical" in t.loc[0, "demand_reason"]


def test_yyyymmdd_numbers_in_period_are_dates(tmp_path):
    p = write(tmp_path, "sku,period,quantity\nA,20240101,1\nA,20240103,2\nA,20240108,4\n")
    h = read_history(p, scenario([sku("A")]), "s.yaml")
    assert h.series["A"].tolist() == [1, 0, 2, 0, 0, 0, 0, 4]  # 8 days, not 8 million periods
