"""Issue 15, points 2 and 4: honest defaults and horizons that cover the dynamics.

- A lost sale costs at least its lost margin unless the scenario says otherwise.
- A scenario whose shortage is free is refused in cost-optimal mode (exit 2, file, path, rule), and
  allowed once a service rule covers the SKUs.
- Defection parameters on SKUs without a `customers` count are refused (skus[i].customers).
- A horizon shorter than the protection period (warm-up) or than a few replenishment cycles
  (counted periods) is refused with the length needed; every shipped example passes.
- A plan row whose policy never ordered in the verification is never reported without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import scenarios
from scenarios.errors import ScenarioError
from scenarios.planning_rules import (HORIZON_CYCLES, check_plannable, free_shortage_problems, horizon_problems,
                                      planning_problems)
from tests.cli_run import run_cli
from tradeoff.pipeline import run
from tradeoff.verify import NEVER_ORDERED

ROOT = Path(__file__).resolve().parents[2]
SHARED_MOQ = ROOT.parent / "shared" / "cases" / "decisions" / "moq_slow_mover" / "scenario.yaml"
# ../shared/cases/decisions/moq_slow_mover/scenario.yaml, as it was when the rule was written.
MOQ_SLOW_MOVER = """\
format: 1
name: moq-big
seed: 4
horizon: {periods: 365, warmup: 0, periods_per_year: 365}
replications: 10
costs: {carrying_rate: 0.25, order_cost: 30}
customer_reaction: {wait: 0.5, lost_sale: 0.5}
transport: [{name: truck, lead_time: 5}]
policies: {families: [sS, rQ, base_stock], review_periods: [1], moq: 100}
skus:
  - {id: slow-part, unit_cost: 40, price: 70, demand: {dist: poisson, mean: 0.05}}
"""
# Every customer waits and a backorder costs nothing: the shortage is free.
FREE = """\
format: 1
name: free
seed: 2
horizon: {periods: 60, warmup: 5}
replications: 2
costs: {order_cost: 10.0}
transport: [{name: truck, lead_time: 2, cost_per_shipment: 5}]
service: {frontier: [0.9]}
policies: {families: [base_stock], review_periods: [1]}
skus:
  - {id: a, unit_cost: 5, price: 9, demand: {dist: poisson, mean: 4}}
  - {id: b, unit_cost: 2, price: 3, class: X, demand: {dist: poisson, mean: 2}}
"""


def write(tmp_path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load(tmp_path, text: str, **overrides) -> scenarios.Scenario:
    return scenarios.load(write(tmp_path, text), overrides=overrides or None)


def cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    code = run_cli(monkeypatch, *args)
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- lost sale default
def test_a_lost_sale_costs_its_margin_unless_the_scenario_says_otherwise(tmp_path):
    sc = load(tmp_path, FREE)
    a = sc.skus[0]
    assert sc.costs.lost_sale is None
    assert sc.lost_sale_per_unit(a) == pytest.approx(9 - 5)
    with_goodwill = load(tmp_path, FREE, **{"costs.goodwill": 1.5})
    assert with_goodwill.lost_sale_per_unit(a) == pytest.approx(9 - 5 + 1.5)
    told = load(tmp_path, FREE, **{"costs.lost_sale": 0.25})
    assert told.lost_sale_per_unit(a) == pytest.approx(0.25)


# --------------------------------------------------------------------------- free shortage
def test_free_waiting_in_cost_optimal_mode_is_refused_by_run_with_file_path_and_rule(tmp_path):
    path = write(tmp_path, FREE, "free.yaml")
    with pytest.raises(ScenarioError) as info:
        run(path)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.path == "costs.backorder_per_unit_period"
    for words in ("a shortage costs nothing for SKU a, b", "customer_reaction.wait 1", "service.target",
                  "cost-optimal"):
        assert words in problem.rule, problem.rule


def test_free_shortage_refusal_is_exit_2_on_the_command_line(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, FREE, "free.yaml")
    code, out, err = cli(monkeypatch, capsys, "run", path, "--out", tmp_path / "out")
    assert code == 2
    assert f"{path}: costs.backorder_per_unit_period: a shortage costs nothing" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "free").exists()


@pytest.mark.parametrize("overrides", [
    {"service.target": 0.9},
    {"service.sku_floor": 0.8},
    {"service.floors": {"X": 0.9, "A": 0.5}},  # a covers A (by ABC), b its own class X
    {"costs.backorder_per_unit": 0.1},
    {"costs.backorder_per_unit_period": 0.01},
    {"costs.order_processing": 0.2},  # a backordered order is handled twice
    {"customer_reaction": {"wait": 0.5, "lost_sale": 0.5}},  # a lost sale costs its margin
    {"customer_reaction": {"wait": 0.5, "substitute": 0.5}},  # a substitute costs half the margin
])
def test_a_cost_or_a_service_rule_makes_the_shortage_plannable(tmp_path, overrides):
    assert free_shortage_problems(load(tmp_path, FREE, **overrides)) == []


def test_a_target_given_to_run_makes_it_plannable(tmp_path):
    """--target is applied before the check: the run is then not cost-optimal."""
    result = run(write(tmp_path, FREE), target=0.9)
    assert result.summary["service"]["target"] == 0.9


@pytest.mark.parametrize("overrides,path,words", [
    ({"customer_reaction": {"wait": 0, "lost_sale": 1}, "costs.lost_sale": 0}, "costs.lost_sale",
     "costs.lost_sale is 0, costs.goodwill is 0"),
    ({"customer_reaction": {"wait": 0, "substitute": 1}, "costs.substitution": 0}, "costs.substitution",
     "costs.substitution is 0"),
    ({"expedite": {"mode": "truck"}, "transport[0].cost_per_shipment": 0}, "costs.backorder_per_unit",
     "expedite at no cost"),
])
def test_every_kind_of_free_shortage_is_refused(tmp_path, overrides, path, words):
    (line,) = free_shortage_problems(load(tmp_path, FREE, **overrides))
    assert line.startswith(f"{path}: ") and words in line, line


def test_a_class_floor_covers_only_its_class(tmp_path):
    (line,) = free_shortage_problems(load(tmp_path, FREE, **{"service.floors": {"X": 0.9}}))
    assert "for SKU a (" in line and "SKU a, b" not in line


def test_no_margin_makes_a_lost_sale_free_and_names_the_price(tmp_path):
    sc = load(tmp_path, FREE, **{"customer_reaction": {"wait": 0, "lost_sale": 1}, "skus[1].price": 2,
                                 "costs.backorder_per_unit": 1})
    (line,) = free_shortage_problems(sc)
    assert line.startswith("skus[1].price: a shortage costs nothing for SKU b (") and "price = unit_cost" in line
    assert free_shortage_problems(load(tmp_path, FREE, **{"customer_reaction": {"wait": 0, "lost_sale": 1},
                                                          "skus[1].price": 2, "costs.goodwill": 0.5})) == []


def test_defection_with_a_cost_per_customer_lost_is_a_shortage_cost(tmp_path):
    rs = {"wait": 1, "repeated_stockout": {"window": 10, "threshold": 1, "defect_probability": 0.5}}
    sc = load(tmp_path, FREE, **{"customer_reaction": rs, "skus[0].customers": 5, "skus[1].customers": 5,
                                 "costs.lost_customer": 100})
    assert free_shortage_problems(sc) == []
    sc = load(tmp_path, FREE, **{"customer_reaction": rs, "skus[0].customers": 5, "skus[1].customers": 5})
    assert len(free_shortage_problems(sc)) == 1  # customers lost at no cost: still free


# --------------------------------------------------------------------------- defection needs customers
def test_defection_on_a_sku_without_customers_is_refused(tmp_path):
    path = write(tmp_path, FREE)
    rs = {"wait": 1, "repeated_stockout": {"window": 10, "threshold": 2}}
    with pytest.raises(ScenarioError) as info:
        scenarios.load(path, overrides={"customer_reaction": rs, "skus[0].customers": 5})
    (problem,) = info.value.problems
    assert problem.path == "skus[1].customers" and "repeated_stockout" in problem.rule
    assert problem.file == str(path)
    ok = scenarios.load(path, overrides={"customer_reaction": rs, "skus[0].customers": 5, "skus[1].customers": 3})
    assert ok.skus[1].customers == 3


def test_defection_without_customers_lists_twenty_skus_then_a_count(tmp_path):
    skus = "".join(f"  - {{id: s{i}, unit_cost: 1, price: 2, demand: 1}}\n" for i in range(25))
    text = FREE.split("skus:\n")[0] + "skus:\n" + skus
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, text, customer_reaction={"wait": 1, "repeated_stockout": {"window": 10}})
    paths = [p.path for p in info.value.problems]
    assert paths == [f"skus[{i}].customers" for i in range(20)] + ["skus"]
    assert "5 more SKUs" in info.value.problems[-1].rule


# --------------------------------------------------------------------------- horizons
def test_the_moq_slow_mover_is_refused_with_the_periods_needed(tmp_path):
    """MOQ 100 on 0.05 a period: one lot lasts 2,000 periods, so a year is not one cycle; the plan
    would live off its starting stock (before: fill 1.0000 out of sample, long-run 0.58)."""
    path = write(tmp_path, MOQ_SLOW_MOVER, "moq.yaml")
    with pytest.raises(ScenarioError) as info:
        run(path)
    by_path = {p.path: p for p in info.value.problems}
    assert set(by_path) == {"horizon.periods", "horizon.warmup"}
    periods = by_path["horizon.periods"].rule
    assert f"at least {HORIZON_CYCLES * 2000}" in periods and "slow-part" in periods and "policies.moq 100" in periods
    assert "at least 6" in by_path["horizon.warmup"].rule and "lead time 5" in by_path["horizon.warmup"].rule
    assert all(p.file == str(path) for p in info.value.problems)


@pytest.mark.skipif(not SHARED_MOQ.exists(), reason="../shared/cases/decisions is not next to this checkout")
def test_the_shared_moq_case_is_refused_on_the_command_line(tmp_path, monkeypatch, capsys):
    code, out, err = cli(monkeypatch, capsys, "run", SHARED_MOQ, "--out", tmp_path / "out")
    assert code == 2, err
    assert "horizon.periods: 365 counted periods" in err and "at least 6000" in err
    assert "Traceback" not in err


def test_a_long_enough_horizon_passes_and_a_pack_size_counts(tmp_path):
    sc = load(tmp_path, MOQ_SLOW_MOVER, horizon={"periods": 6000, "warmup": 6})
    assert horizon_problems(sc) == []
    # no MOQ, packs of 10: 3 x 10 / 0.05 = 600 periods
    sc = load(tmp_path, MOQ_SLOW_MOVER, **{"policies.moq": 0, "policies.pack_size": 10,
                                           "horizon": {"periods": 599, "warmup": 6}})
    (line,) = horizon_problems(sc)
    assert line.startswith("horizon.periods: 599") and "at least 600" in line and "policies.pack_size 10" in line


def test_the_warm_up_covers_the_longest_protection_period(tmp_path):
    sc = load(tmp_path, FREE, **{"policies.review_periods": [0, 7], "service.target": 0.9})
    (line,) = horizon_problems(sc)  # lead time 2 + review 7 = 9 > warm-up 5
    assert line.startswith("horizon.warmup: 5 periods") and "at least 9" in line


def test_a_horizon_problem_set_by_an_override_says_so(tmp_path):
    path = write(tmp_path, FREE)
    with pytest.raises(ScenarioError) as info:
        run(path, overrides=["horizon.warmup=0"], target=0.9)
    (problem,) = info.value.problems
    assert problem.path == "horizon.warmup" and "(set by" in problem.rule


def shipped() -> list[tuple[str, str | None]]:
    files = sorted((ROOT / "scenarios" / "examples").glob("*.yaml")) + sorted((ROOT / "scenarios" / "bench").glob("*.yaml"))
    out = []
    for f in files:
        sc = scenarios.load(f)
        out += [(str(f), None)] + [(str(f), v) for v in sc.variants]
    return out


SHIPPED = shipped()


@pytest.mark.parametrize("file,variant", SHIPPED, ids=[f"{Path(f).name}-{v or 'base'}" for f, v in SHIPPED])
def test_every_shipped_example_is_plannable(file, variant):
    sc = scenarios.load(file, variants=variant)
    assert planning_problems(sc) == []
    check_plannable(sc, file, variants=variant)


# --------------------------------------------------------------------------- plans that never order
NEVER = """\
format: 1
name: never
seed: 3
horizon: {periods: 200, warmup: 3}
replications: 3
costs: {order_cost: 10.0, backorder_per_unit: 1.0}
customer_reaction: {wait: 0.5, lost_sale: 0.5}
transport: [{name: truck, lead_time: 2}]
service: {frontier: [0.9]}
policies:
  families: [sS]
  review_periods: [1]
  expand: false
  candidates: {sS: [{s: 0, S: 500}]}
skus:
  - {id: slow, unit_cost: 4, price: 7, demand: {dist: poisson, mean: 0.5}}
  - {id: busy, unit_cost: 4, price: 7, demand: {dist: poisson, mean: 20}}
"""


def test_a_plan_that_never_orders_is_flagged_not_reported_as_full_service(tmp_path):
    """S = 500 and s = 0 on 0.5 a period: 100 of 200 periods' demand never brings the position to s,
    so the policy never orders; its fill of 1 is its starting stock's. The row carries a note, the
    summary a warning; a SKU that orders has no note."""
    out = tmp_path / "out"
    result = run(write(tmp_path, NEVER, "never.yaml"), out=out)
    plan = result.plan.set_index("sku")
    assert plan.loc["slow", "fill_rate"] == 1.0
    assert plan.loc["slow", "note"] == NEVER_ORDERED
    assert pd.isna(plan.loc["busy", "note"])
    summary = json.loads((out / "never" / "summary.json").read_text())
    (warning,) = summary["warnings"]
    assert warning.startswith("1 SKU (slow) placed no replenishment order")
    written = pd.read_csv(out / "never" / "plan.csv", keep_default_na=False).set_index("sku")
    assert written.loc["slow", "note"] == NEVER_ORDERED and written.loc["busy", "note"] == ""
