"""Issue 15, point 8: an infeasible target still shows what is reachable. `tradeoff run` exits 3 as
before, and writes frontier.csv (the levels that can be met), summary.json (status infeasible, the
rule, its best achievable level) and report.html (saying so), but no plan.csv; the folder is a
finished result that `tradeoff.read` reads back, batch resumes as infeasible and compare reuses as
the same error."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import tradeoff
from optimizer import InfeasibleError
from tests.cli_run import run_cli
from tradeoff.pipeline import run
from tradeoff.results_io import MANIFEST, finished

# Three explicit base-stock levels only (expand false): the best aggregate fill rate is far below 99.9 %.
SCENARIO = """\
format: 1
name: unreachable
seed: 5
horizon: {periods: 120, warmup: 10}
replications: 3
costs: {order_cost: 20.0, goodwill: 1.0}
customer_reaction: {wait: 0.6, lost_sale: 0.4}
transport:
  - {name: truck, lead_time: 2, cost_per_shipment: 10, cost_per_unit: 0.1}
service: {target: 0.999, frontier: [0.5, 0.7, 0.85, 0.9, 0.95, 0.99]}
policies:
  families: [base_stock]
  expand: false
  candidates: {base_stock: [{S: 4}, {S: 8}, {S: 12}]}
skus:
  - {id: a, unit_cost: 5, price: 9, demand: {dist: poisson, mean: 4}}
  - {id: b, unit_cost: 12, price: 20, demand: {dist: poisson, mean: 2}}
  - {id: c, unit_cost: 3, price: 4, demand: {dist: negbin, mean: 6, cv: 0.8}}
"""


cli = run_cli


def headline_text(folder) -> str:
    page = (folder / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section class="headline"'):page.index("</section>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", section))


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scn") / "unreachable.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="module")
def target_run(scenario_file, tmp_path_factory):
    """`tradeoff run` on the scenario whose target is above what its candidates reach."""
    out = tmp_path_factory.mktemp("out")
    mp = pytest.MonkeyPatch()
    captured = []
    try:
        import contextlib
        import io

        err, std = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
            status = cli(mp, "run", scenario_file, "--out", out)
        captured = [std.getvalue(), err.getvalue()]
    finally:
        mp.undo()
    return status, out / "unreachable", captured


def test_infeasible_target_exits_3_and_names_rule_and_best_level(target_run):
    status, folder, (stdout, stderr) = target_run
    assert status == 3
    assert "service.target cannot be met: the best achievable fill_rate is" in stderr  # today's wording
    assert f"{folder}: infeasible" in stdout


def test_infeasible_target_writes_reachable_frontier_summary_report_no_plan(target_run):
    _, folder, _ = target_run
    names = {p.name for p in folder.iterdir()}
    assert names == {"frontier.csv", "summary.json", "report.html", MANIFEST}
    assert "plan.csv" not in names  # no plan breaks the rule as if it held

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    assert summary["rule"] == "service.target"
    best = summary["best_achievable"]
    assert 0.3 < best < 0.99
    assert summary["plan"].startswith("not written")
    assert summary["solver"]["status"] == "infeasible"
    assert summary["service"]["target"] == 0.999 and summary["service"]["achieved"] is None
    assert [r["rule"] for r in summary["rules_failing_alone"]] == ["service.target"]
    assert summary["rules_failing_alone"][0]["best_achievable"] == pytest.approx(best)

    frontier = pd.read_csv(folder / "frontier.csv")
    assert len(frontier) == summary["frontier_levels"] >= 3
    assert frontier["cost_optimal"].sum() == 1
    assert (frontier["achieved"] <= best + 1e-9).all()
    assert frontier["achieved"].max() == pytest.approx(best, abs=2e-4)  # the curve reaches the best level
    assert {0.5, 0.7} <= set(frontier["target"].dropna().round(6))
    unreachable = {row["target"] for row in summary["frontier_infeasible"]}
    assert unreachable == {0.85, 0.9, 0.95, 0.99}

    text = headline_text(folder)
    assert "cannot be met" in text
    assert f"best achievable fill rate is {100 * best:.1f} %" in text
    assert "plan.csv is not written" in text
    assert "What can be met" in text
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page  # the exchange curve of what can be met


def test_infeasible_result_is_finished_and_read_back(target_run):
    _, folder, _ = target_run
    summary = json.loads((folder / "summary.json").read_text())
    assert finished(folder, summary["scenario_hash"])
    result = tradeoff.read(folder)
    assert result.infeasible and result.plan is None
    assert result.status == "infeasible"
    assert result.rules_missed == ["service.target"]
    assert len(result.frontier) == summary["frontier_levels"]
    assert "infeasible: service.target cannot be met" in repr(result)


def test_infeasible_budget_limit_writes_summary_and_report_without_frontier(scenario_file, tmp_path, monkeypatch,
                                                                            capsys):
    out = tmp_path / "out"
    status = cli(monkeypatch, "run", scenario_file, "--out", out, "--set", "service.target=null",
                 "--set", "budget.inventory_value=1")
    assert status == 3
    err = capsys.readouterr().err
    assert "budget.inventory_value 1 cannot be met" in err
    folder = out / "unreachable"
    assert not (folder / "plan.csv").exists()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["rule"] == "budget.inventory_value"
    assert summary["best_achievable"] > 1  # the smallest inventory value the candidates allow
    assert summary["frontier_levels"] == 0
    assert pd.read_csv(folder / "frontier.csv").empty  # every level breaks the limit
    text = headline_text(folder)
    assert "budget.inventory_value 1 cannot be met" in text
    assert f"smallest achievable use is {summary['best_achievable']:,.6g}" in text
    assert "no exchange curve" in text
    result = tradeoff.read(folder)
    assert result.infeasible and result.frontier.empty


def test_run_api_raises_with_the_written_result(scenario_file, tmp_path):
    with pytest.raises(InfeasibleError) as caught:
        run(scenario_file, out=tmp_path)
    result = caught.value.result
    assert result.out_dir == tmp_path / "unreachable"
    assert result.plan is None and result.summary["status"] == "infeasible"
    assert caught.value.rule == "service.target"
    assert caught.value.best_achievable == pytest.approx(result.summary["best_achievable"])


def test_batch_resumes_an_infeasible_result_as_infeasible(scenario_file, tmp_path):
    from tradeoff.batch import run_batch

    out = tmp_path / "batch"
    run_batch([scenario_file], out)
    first = pd.read_csv(out / "batch.csv")
    assert first["status"].tolist() == ["infeasible"]
    assert (out / "unreachable" / "summary.json").exists()
    run_batch([scenario_file], out)
    again = pd.read_csv(out / "batch.csv")
    assert again["status"].tolist() == ["infeasible"]  # reused, never "ok"
    assert bool(again["reused"].iloc[0])
    assert "best achievable" in again["message"].iloc[0]


def test_compare_reuses_an_infeasible_result_as_the_same_error(scenario_file, target_run):
    from tradeoff.compare import Job, run_or_reuse

    _, folder, _ = target_run
    with pytest.raises(InfeasibleError) as caught:
        run_or_reuse(Job(scenario_file), folder.parent)
    assert caught.value.rule == "service.target"
    assert caught.value.result.extras.get("reused") is True
