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
