"""ABC classes by annual demand value, with history-derived demand when demand came from history."""

import pytest

from scenarios.abc import abc_table, annual_demand_value, sku_classes
from scenarios.history import apply_history
from scenarios.schema import Scenario


def test_classes_from_history_derived_demand(tmp_path):
    # Mean daily demand from history: P 10, Q 4, R 1, S 1 (every day, 20 days).
    # Values per year (x365 x unit cost): P 3650*5 = 18250, Q 1460*2 = 2920, R 365*10 = 3650,
    # S 365*1 = 365, T explicit 0.5/day x 1 = 182.5; total 25367.5.
    # Cumulative share before each, by value: P 0 -> A, R 0.719 -> A, Q 0.863 -> B, S 0.978 -> C,
    # T 0.993 -> C; U keeps its given class X.
    rows = ["sku,period,quantity"]
    for t in range(20):
        rows += [f"P,{t},10", f"Q,{t},4", f"R,{t},1", f"S,{t},1", f"U,{t},7"]
    csv = tmp_path / "h.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    sc = Scenario.model_validate({
        "format": 1, "name": "abc", "transport": [{"name": "truck", "lead_time": 1}],
        "demand_history_csv": "h.csv",
        "skus": [
            {"id": "P", "unit_cost": 5, "price": 6}, {"id": "Q", "unit_cost": 2, "price": 3},
            {"id": "R", "unit_cost": 10, "price": 11}, {"id": "S", "unit_cost": 1, "price": 2},
            {"id": "T", "unit_cost": 1, "price": 2, "demand": 0.5},
            {"id": "U", "unit_cost": 1, "price": 2, "class": "X"},
        ],
    })
    out = apply_history(sc, csv, "abc.yaml")
    value = annual_demand_value(out)
    assert value["P"] == pytest.approx(18250) and value["R"] == pytest.approx(3650)
    assert value["T"] == pytest.approx(182.5)
    assert sku_classes(out) == {"P": "A", "R": "A", "Q": "B", "S": "C", "T": "C", "U": "X"}
    t = abc_table(out).set_index("sku")
    assert t.loc["U", "class_source"] == "given" and t.loc["P", "class_source"] == "abc"
    total = 18250 + 2920 + 3650 + 365 + 182.5 + 7 * 365
    assert t.loc["P", "value_share"] == pytest.approx(18250 / total)
    assert t["cumulative_share"].max() == pytest.approx(1.0)
    assert t.loc["P", "cumulative_share"] == pytest.approx(18250 / total)
