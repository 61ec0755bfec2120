"""The committed retail history example: its CSV is what the committed seeded script generates,
and the scenario gets a demand model for every SKU with the classes from annual demand value."""

import importlib.util
from pathlib import Path

import yaml

from scenarios.abc import sku_classes
from scenarios.history import apply_history, demand_model_table
from scenarios.schema import Scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"


def _script():
    spec = importlib.util.spec_from_file_location("make_history", EXAMPLES / "data" / "make_history.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_csv_is_the_seeded_script_output():
    m = _script()
    _, sales = m.history()
    committed = (EXAMPLES / "data" / "retail_history.csv").read_bytes()
    assert m.csv_text(sales).encode("utf-8") == committed
    assert len(committed) < 3_000_000


def test_example_gets_a_model_for_every_sku():
    path = EXAMPLES / "retail_history.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    csv = (path.parent / raw["demand_history_csv"]).resolve()
    raw["demand_history_csv"] = str(csv)
    sc = apply_history(Scenario.model_validate(raw), csv, path.name)
    assert all(s.demand is not None for s in sc.skus)
    t = demand_model_table(sc).set_index("sku")
    assert len(t) == len(sc.skus) >= 300
    assert t.loc["N-002", "demand_source"] == "explicit"
    assert (t.drop(index="N-002")["demand_source"] == "history").all()
    # the retail tail is intermittent and lumpy, the promoted movers over-dispersed
    assert set(t["demand_pattern"]) >= {"smooth", "erratic", "intermittent", "lumpy"}
    assert set(t["demand_model"]) >= {"negbin", "compound", "empirical"}
    classes = sku_classes(sc)
    assert classes["N-001"] == "A" and set(classes.values()) == {"A", "B", "C"}


def test_planner_points_a_scenario_at_a_sales_csv(tmp_path):
    """Through the loader and `tradeoff validate`: a good history loads, a bad one exits 2 naming
    every problem (CSV rows and the SKU without history) at once."""
    from scenarios import load
    from tradeoff.commands.validate import validate_files

    (tmp_path / "sales.csv").write_text(
        "sku,date,quantity\nA,2025-01-06,4\nA,2025-01-07,0\nA,2025-01-09,6\nB,2025-01-08,2\n", encoding="utf-8")
    text = (
        "format: 1\nname: from-sales\ntransport: [{name: truck, lead_time: 2}]\n"
        "demand_history_csv: sales.csv\n"
        "skus:\n  - {id: A, unit_cost: 2, price: 3}\n  - {id: B, unit_cost: 2, price: 3}\n"
    )
    good = tmp_path / "good.yaml"
    good.write_text(text, encoding="utf-8")
    sc = load(good)
    assert [s.demand is not None for s in sc.skus] == [True, True]
    assert demand_model_table(sc)["demand_source"].tolist() == ["history", "history"]

    (tmp_path / "bad.csv").write_text(
        "sku,date,quantity\nA,2025-01-06,-4\nX,2025-01-07,1\nA,06/01/2025,2\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("sales.csv", "bad.csv"), encoding="utf-8")
    status, _, lines = validate_files([str(bad)])
    assert status == 2
    joined = "\n".join(lines)
    assert "bad.csv: demand_history_csv[2].quantity: -4.0 is negative" in joined
    assert "'X'" not in joined  # a SKU the scenario does not plan is a warning, not a problem (issue 15)
    assert "bad.csv: demand_history_csv[4].date: '06/01/2025' is not a date" in joined
    assert "skus[1].demand: missing, and bad.csv has no history for SKU 'B'" in joined
    assert "skus[0].demand" not in joined  # A has history rows (the bad ones are reported)
