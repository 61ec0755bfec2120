"""`tradeoff run` end to end on a tiny scenario: files, columns, summary, out-of-sample figures,
reproducibility (runs, jobs, engines), atomic writing, exit statuses."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tradeoff import results_io

import scenarios
import simulation
from tests.cli_run import run_cli
from tradeoff.pipeline import run
from tradeoff.results_io import MANIFEST, write_run

TINY = """\
format: 1
name: tiny
seed: 5
horizon: {periods: 120, warmup: 10}
replications: 3
costs: {order_cost: 20.0, goodwill: 1.0}
customer_reaction: {wait: 0.6, lost_sale: 0.4}
transport:
  - {name: truck, lead_time: 2, cost_per_shipment: 10, cost_per_unit: 0.1}
service: {frontier: [0.85, 0.9, 0.95]}
policies: {families: [sS, base_stock], review_periods: [0, 1]}
variants:
  cheap: {costs.carrying_rate: 0.05}
skus:
  - {id: a, unit_cost: 5, price: 9, demand: {dist: poisson, mean: 4}, current_policy: {family: sS, s: 8, S: 20}}
  - {id: b, unit_cost: 12, price: 20, demand: {dist: poisson, mean: 2}}
  - {id: c, unit_cost: 3, price: 4, demand: {dist: negbin, mean: 6, cv: 0.8}, current_policy: {family: base_stock, S: 15, R: 1}}
"""

DOCS_PLAN_COLUMNS = (
    "sku class family mode s S Q R cap fill_rate cycle_service_level order_fill_rate stockout_frequency "
    "order_cycle_mean order_cycle_sd on_time_rate backorder_rate substitution_rate lost_sales_rate customers_lost "
    "avg_on_hand avg_in_transit cost_carrying cost_ordering cost_order_processing cost_transport cost_warehousing "
    "cost_shortage cost_total fill_rate_ci cost_total_ci"
).split()
BUCKETS = "cost_carrying cost_ordering cost_order_processing cost_transport cost_warehousing cost_shortage".split()
DOCS_FRONTIER_COLUMNS = ["target", "achieved", "cost_total", "cost_logistics", *BUCKETS, "marginal_cost",
                         "implied_shortage_cost", "cost_optimal"]
RESULT_FILES = {"plan.csv", "frontier.csv", "candidates.parquet", "summary.json", "report.html", "audit.csv"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("scn") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def first(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("out1")
    return run(tiny, out=out), out


cli = run_cli


def test_files_and_columns(first):
    result, out = first
    folder = out / "tiny"
    assert result.out_dir == folder
    assert {p.name for p in out.iterdir()} == {"tiny"}  # no staging folder left behind
    assert {p.name for p in folder.iterdir()} == RESULT_FILES | {MANIFEST}
    plan = pd.read_csv(folder / "plan.csv")
    assert list(plan.columns[: len(DOCS_PLAN_COLUMNS)]) == DOCS_PLAN_COLUMNS
    assert plan["sku"].tolist() == ["a", "b", "c"]
    frontier = pd.read_csv(folder / "frontier.csv")
    assert list(frontier.columns[: len(DOCS_FRONTIER_COLUMNS)]) == DOCS_FRONTIER_COLUMNS
    assert frontier["cost_optimal"].sum() == 1
    candidates = pd.read_parquet(folder / "candidates.parquet")
    assert candidates["chosen"].sum() == 3
    chosen = candidates[candidates["chosen"]].set_index("sku").loc[plan["sku"]]
    for col in ("family", "mode"):
        assert chosen[col].tolist() == plan[col].tolist()
    assert (folder / "report.html").read_text().lstrip().lower().startswith("<!doctype html")


def test_plan_reports_out_of_sample_figures(first, tiny):
    result, out = first
    plan = pd.read_csv(out / "tiny" / "plan.csv")
    scenario = scenarios.load(tiny)
    reps = int(plan["replications"].iloc[0])
    assert reps >= scenario.replications
    fresh = simulation.evaluate(scenario, plan[["sku", "family", "mode", "s", "S", "Q", "R", "cap"]],
                                replications=reps, seed=scenario.seed + 1_000_003)
    for col in ("fill_rate", "cost_total", "avg_on_hand"):
        assert plan[col].to_numpy() == pytest.approx(fresh[col].to_numpy(), rel=1e-9)
    in_sample = simulation.evaluate(scenario, plan[["sku", "family", "mode", "s", "S", "Q", "R", "cap"]],
                                    replications=reps, seed=scenario.seed)
    assert not (plan["cost_total"].to_numpy() == pytest.approx(in_sample["cost_total"].to_numpy(), rel=1e-9))


def test_summary(first, tiny):
    result, out = first
    summary = json.loads((out / "tiny" / "summary.json").read_text())
    plan = pd.read_csv(out / "tiny" / "plan.csv")
    scenario = scenarios.load(tiny)
    assert summary["scenario_hash"] == scenarios.content_hash(scenario)
    assert summary["seed"] == 5 and summary["verification"]["seed"] == 5 + 1_000_003
    assert summary["verification"]["replications"] >= summary["replications"] == 3
    assert summary["engine"] == "kernel"
    assert set(summary["versions"]) >= {"tradeoff", "pyomo", "highspy", "numpy", "pandas", "simpy", "numba"}
    assert summary["candidates"] == len(pd.read_parquet(out / "tiny" / "candidates.parquet"))
    assert summary["refine_rounds"] >= 0
    assert set(summary["timings"]) >= {"simulate", "select", "verify", "frontier", "report"}
    for bucket in BUCKETS + ["cost_total"]:
        assert summary["totals"][bucket] == pytest.approx(plan[bucket].sum(), rel=1e-8, abs=1e-9)
    weighted = (plan["fill_rate"] * plan["demand_per_period"]).sum() / plan["demand_per_period"].sum()
    assert summary["metrics"]["fill_rate"] == pytest.approx(weighted, rel=1e-8)
    assert summary["service"]["achieved"] == pytest.approx(weighted, rel=1e-8)
    assert summary["solver"]["status"] == "optimal"
    assert summary["audit"]["skus_without_current_policy"] == ["b"]


def test_same_plan_bytes_across_runs_jobs_and_engines(first, tiny, tmp_path):
    """Another run, with 2 jobs AND the SimPy engine, gives the same bytes: a difference from either
    would show (they are independent code paths and cannot cancel out)."""
    _, out = first
    run(tiny, out=tmp_path, jobs=2, engine="simpy")
    for name in ("plan.csv", "frontier.csv", "audit.csv"):
        assert (tmp_path / "tiny" / name).read_bytes() == (out / "tiny" / name).read_bytes(), name


def test_failure_while_writing_leaves_no_result_file(first, tmp_path, monkeypatch):
    result, _ = first

    real = results_io._write_one

    def broken(path, content):  # the candidates dataset half copied, then the disk is full
        if path.name == "candidates.parquet":
            path.mkdir()
            (path / "part-00000.parquet").write_bytes(b"PAR1 half")
            raise OSError("no space left on device")
        real(path, content)

    monkeypatch.setattr(results_io, "_write_one", broken)
    monkeypatch.setattr("tradeoff.results_io.render_html", lambda result: "<!doctype html>")  # not under test here
    with pytest.raises(OSError):
        write_run(result, tmp_path / "out", "tiny")
    assert list((tmp_path / "out").iterdir()) == []


def test_rerun_replaces_results_and_keeps_unrelated_files(tiny, tmp_path, monkeypatch):
    out = tmp_path / "out"
    (out / "tiny").mkdir(parents=True)
    (out / "tiny" / "notes.txt").write_text("keep me")
    (out / "unrelated.csv").write_text("x\n")
    assert cli(monkeypatch, "run", tiny, "--out", out) == 0
    assert (out / "tiny" / "notes.txt").read_text() == "keep me"
    assert (out / "unrelated.csv").read_text() == "x\n"
    assert RESULT_FILES <= {p.name for p in (out / "tiny").iterdir()}


def test_invalid_scenario_exits_2_and_writes_nothing(tiny, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("mean: 4}", "mean: -4}"))
    out = tmp_path / "out"
    assert cli(monkeypatch, "run", bad, "--out", out) == 2
    assert "skus[0].demand.mean" in capsys.readouterr().err
    assert cli(monkeypatch, "run", tiny, "--out", out, "--variant", "nosuch") == 2
    assert cli(monkeypatch, "run", tiny, "--out", out, "--engine", "fast") == 2
    assert not out.exists()


def test_infeasible_target_exits_3_and_writes_no_plan(tiny, tmp_path, monkeypatch, capsys):
    # Issue 15, point 8: what can be met is still written (tests/tradeoff/test_infeasible_result.py).
    out = tmp_path / "out"
    status = cli(monkeypatch, "run", tiny, "--out", out, "--set", "policies.families=[base_stock]",
                 "--set", "policies.candidates={base_stock: [{S: 2}, {S: 3}]}", "--target", "0.99")
    assert status == 3
    assert "best achievable" in capsys.readouterr().err
    assert {p.name for p in (out / "tiny").iterdir()} == {"frontier.csv", "summary.json", "report.html", MANIFEST}


def test_audit_command_with_variant(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert cli(monkeypatch, "audit", tiny, "--out", out, "--variant", "cheap") == 0
    folder = out / "tiny+cheap"
    audit = pd.read_csv(folder / "audit.csv")
    assert audit["sku"].tolist() == ["a", "b", "c"]
    assert audit["has_current_policy"].tolist() == [True, False, True]
    assert "no current policy for b" in capsys.readouterr().out
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"]["variants"] == ["cheap"]
    assert summary["scenario_hash"] == scenarios.content_hash(scenarios.load(tiny, variants=["cheap"]))


def test_chunks_of_skus_give_the_numbers_of_one_call(tiny):
    from tradeoff.executors import get_executor
    from tradeoff.pipeline import Evaluator

    scenario = scenarios.load(tiny)
    policies = pd.DataFrame({"sku": ["c", "a", "b", "a", "c"], "family": "base_stock", "mode": "truck",
                             "s": float("nan"), "S": [10.0, 12.0, 8.0, 20.0, 30.0], "Q": float("nan"), "R": 1.0,
                             "cap": float("nan")})
    whole = simulation.evaluate(scenario, policies, replications=2, seed=9)
    with get_executor("local", jobs=1) as pool:
        for chunks in (1, 2, 3):
            chunked = Evaluator(scenario, "kernel", pool, chunks=chunks)(policies, 2, 9)
            pd.testing.assert_frame_equal(chunked, whole)


def test_scenario_object_takes_the_same_overrides_as_a_file(tiny):
    from tradeoff.pipeline import load_scenario

    changes = dict(overrides={"costs.order_cost": 30}, target=0.9, time_limit=5, mip_gap=0.01)
    from_file = load_scenario(tiny, **changes)
    from_object = load_scenario(scenarios.load(tiny), **changes)
    assert from_object == from_file
    assert (from_file.service.target, from_file.solver.time_limit, from_file.solver.mip_gap) == (0.9, 5, 0.01)
    for source in (tiny, scenarios.load(tiny)):  # the Python API's argument is named, not "--set"
        with pytest.raises(scenarios.ScenarioError) as info:
            load_scenario(source, target=1.5)
        assert "service.target: 1.5 is not <= 1 (set by the target argument)" in str(info.value)


def test_plan_names_the_demand_model_built_from_history(tmp_path):
    from scenarios.history import demand_model_table

    rng = np.random.default_rng(1)
    rows = [{"sku": sku, "period": t, "quantity": int(q)} for sku, mean in (("h1", 3.0), ("h2", 0.2))
            for t, q in enumerate(rng.poisson(mean, 200))]
    pd.DataFrame(rows).to_csv(tmp_path / "history.csv", index=False)
    text = TINY.replace("variants:\n  cheap: {costs.carrying_rate: 0.05}\n", "").split("skus:")[0]
    text += "demand_history_csv: history.csv\nskus:\n  - {id: h1, unit_cost: 5, price: 9}\n  - {id: h2, unit_cost: 5, price: 9}\n"
    (tmp_path / "hist.yaml").write_text(text)
    result = run(tmp_path / "hist.yaml")
    expected = demand_model_table(scenarios.load(tmp_path / "hist.yaml")).set_index("sku")
    plan = result.plan.set_index("sku")
    for col in ("demand_source", "demand_model", "demand_pattern", "demand_reason"):
        assert plan[col].tolist() == expected.loc[plan.index, col].tolist()
    assert plan["demand_source"].tolist() == ["history", "history"]


def test_foreign_result_file_stops_the_run_before_any_work(tiny, tmp_path, monkeypatch):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "summary.json").write_text("{}")
    monkeypatch.setattr("tradeoff.pipeline.search", lambda *a: pytest.fail("work started"))
    assert cli(monkeypatch, "run", tiny, "--out", tmp_path) == 2
    assert (tmp_path / "tiny" / "summary.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["summary.json", "tiny"]


def test_the_console_line_gives_the_reports_figures(tiny, tmp_path, monkeypatch, capsys):
    # Issue 15, point 3: money per year and service in percent, out of sample, as the report's headline.
    out = tmp_path / "out"
    assert cli(monkeypatch, "run", tiny, "--out", out, "--target", "0.9") == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "total cost" in x)
    summary = json.loads((out / "tiny" / "summary.json").read_text(encoding="utf-8"))
    sc = scenarios.load(tiny)
    per_year = summary["totals"]["cost_total"] * sc.horizon.periods_per_year
    assert f"total cost {per_year:,.0f} {sc.currency} per year" in line
    assert f"{100 * summary['service']['achieved']:.1f} % out of sample" in line
    assert "target 90 %" in line
