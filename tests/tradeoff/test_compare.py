"""tradeoff compare: finished runs reused only when the scenario hash matches, `--variant all`
expanded to the base and each variant, the table's money per year, and the page and CSV written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import scenarios
from test_report_synthetic import PPY, synthetic_result
from tradeoff.compare import compare_table, jobs_for, load_finished, run_or_reuse
from tradeoff.results_io import csv_text, write_result


def write_yaml(result, path: Path) -> Path:
    data = result.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_finished(result, folder: Path, scenario_hash: str) -> None:
    """A finished run's files, as `tradeoff run` leaves them (the columns the comparison reads),
    written by the engine's writer so that the manifest records their sizes and hashes."""
    summary = dict(result.summary, scenario_hash=scenario_hash)
    write_result(folder.parent, folder.name, {"plan.csv": csv_text(result.plan), "frontier.csv": csv_text(result.frontier),
                                              "summary.json": json.dumps(summary)})


@pytest.fixture
def world(tmp_path):
    """Two scenario files (EUR, different names) with finished runs under out/ carrying their hashes."""
    out = tmp_path / "out"
    files = []
    for name, target in (("dc-north", 0.98), ("dc-south", 0.95)):
        r = synthetic_result(target=target, with_audit=False, name=name)
        f = write_yaml(r, tmp_path / f"{name}.yaml")
        loaded = scenarios.load(f)
        write_finished(r, out / name, scenarios.content_hash(loaded))
        files.append(f)
    return files, out


def test_variant_all_is_the_base_then_each_variant(tmp_path):
    f = write_yaml(synthetic_result(), tmp_path / "s.yaml")
    jobs = jobs_for([f], "all")
    assert [j.variants for j in jobs] == [None, "cheap", "fast"]
    assert [j.variants for j in jobs_for([f, f], "cheap")] == ["cheap", "cheap"]
    assert [j.variants for j in jobs_for([f], None)] == [None]


def test_finished_run_reused_only_with_the_same_hash(world, monkeypatch):
    files, out = world
    import tradeoff.pipeline

    calls = []

    def fake_run(path, out=None, variants=None, **kw):
        calls.append((path, variants))
        return synthetic_result(with_audit=False, name="dc-north")

    monkeypatch.setattr(tradeoff.pipeline, "run", fake_run)
    r = run_or_reuse(jobs_for([files[0]], None)[0], out)
    assert calls == [] and r.extras["reused"] and r.out_dir == out / "dc-north"
    assert r.frontier["cost_optimal"].dtype == bool and r.frontier["cost_optimal"].sum() == 1
    # a changed world (carrying rate) has another hash: it is run again, not reused
    text = files[0].read_text().replace("carrying_rate: 0.25", "carrying_rate: 0.3")
    assert text != files[0].read_text()
    files[0].write_text(text)
    r = run_or_reuse(jobs_for([files[0]], None)[0], out)
    assert len(calls) == 1 and not r.extras["reused"]


def test_load_finished_refuses_other_scenarios_and_broken_folders(world):
    files, out = world
    sc = scenarios.load(files[0])
    assert load_finished(out / "dc-north", sc, "not-the-hash") is None
    assert load_finished(out / "missing", sc, scenarios.content_hash(sc)) is None
    (out / "dc-north" / "plan.csv").unlink()
    assert load_finished(out / "dc-north", sc, scenarios.content_hash(sc)) is None


def test_compare_table_money_per_year():
    runs = [synthetic_result(target=0.98, with_audit=False, name="a"),
            synthetic_result(target=0.95, with_audit=True, name="b")]
    t = compare_table(runs)
    assert list(t.index) == ["a", "b"]
    for r in runs:
        row = t.loc[r.scenario.name]
        assert row["cost_per_year"] == pytest.approx(float(r.plan["cost_total"].sum()) * PPY)
        assert row["cost_carrying_per_year"] == pytest.approx(float(r.plan["cost_carrying"].sum()) * PPY)
        assert row["achieved"] == pytest.approx(r.summary["service"]["achieved"])
        assert row["target"] == r.summary["service"]["target"]
    assert pd.isna(t.loc["a", "audit_saving_per_year"])
    assert t.loc["b", "audit_saving_per_year"] == pytest.approx(runs[1].summary["audit"]["saving"] * PPY)


def test_compare_command_writes_table_and_page_from_finished_runs(world):
    files, out = world
    from tradeoff.cli import app

    res = CliRunner().invoke(app, ["compare", *map(str, files), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.count("reused") == 2
    table = pd.read_csv(out / "compare.csv")
    assert list(table["scenario"]) == ["dc-north", "dc-south"]
    plan = pd.read_csv(out / "dc-north" / "plan.csv")
    assert table.loc[0, "cost_per_year"] == pytest.approx(float(plan["cost_total"].sum()) * PPY, rel=1e-9)
    page = (out / "compare.html").read_text(encoding="utf-8")
    for chart in ("compare-frontiers", "compare-costs"):
        assert page.count(f'data-chart="{chart}"') == 1
    assert 'id="compare-table"' in page and "dc-south" in page


def test_compare_variant_all_reuses_base_and_each_variant(tmp_path):
    from tradeoff.cli import app
    from tradeoff.pipeline import load_scenario

    r = synthetic_result(with_audit=True, name="dc-east")
    f = write_yaml(r, tmp_path / "dc-east.yaml")
    out = tmp_path / "out"
    for v in (None, "cheap", "fast"):
        sc = load_scenario(str(f), variants=v)
        write_finished(r, out / ("dc-east" + (f"+{v}" if v else "")), scenarios.content_hash(sc))
    res = CliRunner().invoke(app, ["compare", str(f), "--variant", "all", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.count("reused") == 3
    table = pd.read_csv(out / "compare.csv")
    assert list(table["scenario"]) == ["dc-east", "dc-east+cheap", "dc-east+fast"]
    assert table["scenario_hash"].nunique() == 3  # each variant is its own world


def test_compare_page_names_variants_short_and_flags_missed_rules():
    from tradeoff.report import render_compare
    from tradeoff.report.page import short_labels

    assert short_labels(["dc", "dc+cheap", "other+x"]) == {"dc": "dc", "dc+cheap": "+cheap", "other+x": "other+x"}
    runs = [synthetic_result(with_audit=False, name="dc"), synthetic_result(with_audit=False, name="dc")]
    runs[1].extras["folder"] = "dc+cheap"
    page = render_compare(runs)
    # the synthetic summary misses service.floors.C out of sample: the comparison says so
    assert page.count("missed out of sample: service.floors.C") == 2
    assert "<b>dc+cheap</b> against <b>dc</b>: " in page
