"""Batch runs: broken, invalid, infeasible, failing and good files together; re-running skips the
finished ones; a half-written or stale result is never taken for a finished one; a worker that
dies is reported, not dropped.

These tests use `fake_run`, a stand-in for tradeoff.run whose behaviour a scenario's description
selects, so the batch mechanics are tested without the cost of real runs (test_batch_real.py runs
the real engine). Its figures are simple functions of the scenario (cost_total = sum of unit
costs) that the tests compute from the YAML they wrote."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import scenarios
from scenarios.errors import ScenarioError
from tradeoff.batch import COLUMNS, clear_unfinished, expand_inputs, run_batch
from tradeoff.cli import main
from tradeoff.results_io import finished


# --------------------------------------------------------------------------- helpers (also used by test_batch_real)


def scenario_data(name: str, description: str = "", unit_costs=(4.0, 9.0), seed: int = 11, periods: int = 120) -> dict:
    """A small valid scenario: two SKUs, one truck mode, a short horizon (a real run takes seconds)."""
    return {
        "format": 1,
        "name": name,
        "description": description,
        "seed": seed,
        "horizon": {"periods": periods, "warmup": 10, "periods_per_year": 365},
        "replications": 2,
        # a backorder costs something: free shortage is refused in a cost-optimal run
        "costs": {"carrying_rate": 0.25, "order_cost": 30.0, "backorder_per_unit": 0.5},
        "transport": [{"name": "truck", "lead_time": 2, "cost_per_shipment": 50.0, "cost_per_unit": 0.1}],
        "service": {"metric": "fill_rate", "frontier": [0.9, 0.95]},
        "policies": {"families": ["sS"], "review_periods": [0]},
        "skus": [
            {"id": f"S{i}", "unit_cost": c, "price": c * 1.6, "demand": {"dist": "poisson", "mean": 3.0 + i}}
            for i, c in enumerate(unit_costs)
        ],
    }


def write_scenario(folder: Path, file_name: str, data: dict) -> Path:
    """Write `data` as YAML to folder/file_name and return the path."""
    path = folder / file_name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def read_batch_csv(out: Path) -> dict[str, dict]:
    """batch.csv rows keyed by the file's base name."""
    with open(out / "batch.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == COLUMNS
        return {Path(r["file"]).name: r for r in reader}


def fake_run(path, out=None, overrides=None, variants=None, engine="kernel", jobs=1, progress=None):
    """Stand-in for tradeoff.run. Description words: `boom` raises a bug, `infeasible` raises
    InfeasibleError, `die` kills its own process (SIGKILL), `sleep=S` waits S seconds first,
    `dieonce=FILE` kills its process unless FILE exists (and creates it)."""
    from optimizer.errors import InfeasibleError
    from scenarios.hashing import content_hash
    from tradeoff import results_io
    from tradeoff.pipeline import load_scenario, result_folder_name

    scenario = load_scenario(path, overrides, variants)
    words = scenario.description or ""
    if progress is not None:
        progress("simulate", 0, 2)
    if m := re.search(r"sleep=([0-9.]+)", words):
        time.sleep(float(m.group(1)))
    if m := re.search(r"dieonce=(\S+)", words):
        flag = Path(m.group(1))
        if not flag.exists():
            flag.write_text("died")
            os.kill(os.getpid(), signal.SIGKILL)
    if "die" in words.split():
        os.kill(os.getpid(), signal.SIGKILL)
    if "boom" in words.split():
        raise RuntimeError("boom in the model")
    if "infeasible" in words.split():
        raise InfeasibleError("service.target", 0.91)
    missed = ["service.target", "service.floors.A"] if "missed" in words.split() else []
    summary = {
        "scenario_hash": content_hash(scenario),
        "engine": engine,
        "service": {"metric": scenario.service.metric, "target": scenario.service.target, "achieved": 0.95,
                    "rules_missed": missed},
        "totals": {"cost_total": sum(s.unit_cost for s in scenario.skus), "cost_logistics": 1.0},
        "solver": {"status": "optimal"},
        "timings": {"simulate": 0.5, "select": 0.25},
        "pid": os.getpid(),
    }
    plan = "sku,unit_cost\n" + "".join(f"{s.id},{s.unit_cost}\n" for s in scenario.skus)
    out_dir = None
    if out is not None:
        out_dir = results_io.write_result(out, result_folder_name(scenario, variants), {
            "plan.csv": plan, "summary.json": json.dumps(summary, sort_keys=True), "report.html": "<p>fake</p>",
        })
    if progress is not None:
        progress("write", 1, 1)
    return SimpleNamespace(summary=summary, out_dir=out_dir)


class Recorder:
    """A display that records what the batch told it (progress events arrive from other threads)."""

    def __init__(self):
        self.invalid, self.stages, self.finished, self.started = [], [], [], None

    def batch_started(self, to_run, reused, invalid, workers):
        self.started = (to_run, reused, invalid)

    def invalid_file(self, file, problems):
        self.invalid.append((file, problems))

    def scenario_stage(self, key, label, stage, done, total):
        self.stages.append((label, stage))

    def scenario_finished(self, key, label, row):
        self.finished.append((label, row["status"]))

    def close(self):
        pass


# --------------------------------------------------------------------------- tests


@pytest.fixture
def mixed(tmp_path):
    """A folder of scenario files: two good, a YAML syntax error, an invalid value, an infeasible
    one, one whose run has a bug, and a second file reusing a good file's scenario name."""
    src = tmp_path / "scenarios"
    src.mkdir()
    write_scenario(src, "a_good.yaml", scenario_data("good-a", unit_costs=(4.0, 9.0)))
    write_scenario(src, "b_good.yml", scenario_data("good-b", unit_costs=(2.5, 3.5)))
    (src / "c_broken.yaml").write_text("name: broken\nskus: [unclosed\n", encoding="utf-8")
    bad = scenario_data("bad-value")
    bad["skus"][1]["unit_cost"] = -3.0
    write_scenario(src, "d_invalid.yaml", bad)
    write_scenario(src, "e_infeasible.yaml", scenario_data("infeasible", "infeasible"))
    write_scenario(src, "f_boom.yaml", scenario_data("boom", "boom"))
    write_scenario(src, "g_same_name.yaml", scenario_data("good-a", unit_costs=(1.0, 1.0)))
    (src / "notes.txt").write_text("not a scenario", encoding="utf-8")
    return src


def test_expand_inputs_takes_yaml_files_of_a_folder_once(mixed):
    files = expand_inputs([mixed, mixed / "a_good.yaml"])
    assert [Path(f).name for f in files] == [
        "a_good.yaml", "b_good.yml", "c_broken.yaml", "d_invalid.yaml", "e_infeasible.yaml", "f_boom.yaml", "g_same_name.yaml",
    ]


def test_a_batch_with_bad_files_runs_the_good_ones_and_reports_every_bad_one(mixed, tmp_path):
    out = tmp_path / "out"
    seen = Recorder()
    outcome = run_batch([mixed], out, jobs=2, runner=fake_run, progress=seen)
    rows = read_batch_csv(out)
    assert {name: r["status"] for name, r in rows.items()} == {
        "a_good.yaml": "ok", "b_good.yml": "ok", "c_broken.yaml": "invalid", "d_invalid.yaml": "invalid",
        "e_infeasible.yaml": "infeasible", "f_boom.yaml": "failed", "g_same_name.yaml": "invalid",
    }
    assert outcome.exit_status == 4
    # every invalid file was reported before the run, with the offending YAML path and value
    assert sorted(Path(f).name for f, _ in seen.invalid) == ["c_broken.yaml", "d_invalid.yaml", "g_same_name.yaml"]
    assert "skus[1].unit_cost" in rows["d_invalid.yaml"]["message"] and "-3" in rows["d_invalid.yaml"]["message"]
    assert "a_good.yaml" in rows["g_same_name.yaml"]["message"]
    assert "0.91" in rows["e_infeasible.yaml"]["message"]
    assert "RuntimeError: boom in the model" in rows["f_boom.yaml"]["message"]
    # headline figures: the stand-in's cost_total is the sum of the unit costs written above
    assert float(rows["a_good.yaml"]["cost_total"]) == 13.0 and float(rows["b_good.yml"]["cost_total"]) == 6.0
    assert rows["a_good.yaml"]["skus"] == "2" and float(rows["a_good.yaml"]["seconds_run"]) > 0
    # results only for the scenarios that finished; nothing half-written anywhere
    assert sorted(p.name for p in out.iterdir()) == ["batch.csv", "good-a", "good-b"]
    assert json.loads((out / "good-a" / "summary.json").read_text())["totals"]["cost_total"] == 13.0
    # each scenario ran in its own process, and the display heard from the workers
    pids = {json.loads((out / f / "summary.json").read_text())["pid"] for f in ("good-a", "good-b")}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {label for label, stage in seen.stages if stage == "write"} == {"good-a", "good-b"}
    assert sorted(seen.finished) == [("boom", "failed"), ("good-a", "ok"), ("good-b", "ok"), ("infeasible", "infeasible")]


def test_rerun_skips_finished_results_and_redoes_changed_and_failed_ones(mixed, tmp_path):
    out = tmp_path / "out"
    run_batch([mixed], out, jobs=2, runner=fake_run)
    first_b = (out / "good-b" / "summary.json").read_text()

    # the bug is fixed in one file and another file changes (new unit costs -> new scenario hash)
    write_scenario(mixed, "f_boom.yaml", scenario_data("boom", "fixed"))
    write_scenario(mixed, "a_good.yaml", scenario_data("good-a", unit_costs=(5.0, 9.0)))
    seen = Recorder()
    outcome = run_batch([mixed], out, jobs=2, runner=fake_run, progress=seen)
    rows = read_batch_csv(out)
    assert seen.started == (3, 1, 3)  # good-a (changed), infeasible, boom run again; good-b reused
    assert rows["b_good.yml"]["reused"] == "true" and rows["b_good.yml"]["message"] == "already finished"
    assert float(rows["b_good.yml"]["seconds_run"]) == 0.75  # the earlier run's stage timings
    assert (out / "good-b" / "summary.json").read_text() == first_b  # untouched
    assert rows["a_good.yaml"]["reused"] == "false" and float(rows["a_good.yaml"]["cost_total"]) == 14.0
    assert rows["f_boom.yaml"]["status"] == "ok"
    assert outcome.counts["ok"] == 3 and outcome.counts["reused"] == 1


def test_all_invalid_exits_2(tmp_path):
    (tmp_path / "x.yaml").write_text("format: 1\n", encoding="utf-8")
    outcome = run_batch([tmp_path / "x.yaml", tmp_path / "missing.yaml"], tmp_path / "out", runner=fake_run)
    assert outcome.exit_status == 2
    assert [r["status"] for r in outcome.rows] == ["invalid", "invalid"]
    assert "not found" in outcome.rows[1]["message"]


def test_a_template_is_skipped_not_invalid(tmp_path, monkeypatch, capsys):
    # Issue 15: `template: true` marks a file only for extends (here incomplete: no name, no SKUs).
    src = tmp_path / "scenarios"
    src.mkdir()
    base = scenario_data("unused")
    template = {k: v for k, v in base.items() if k not in ("name", "skus")}
    write_scenario(src, "a_base.yaml", {"template": True, **template})
    write_scenario(src, "b_child.yaml", {"extends": "a_base.yaml", "name": "child", "skus": base["skus"]})
    out = tmp_path / "out"
    seen = Recorder()
    outcome = run_batch([src], out, runner=fake_run, progress=seen)
    rows = read_batch_csv(out)
    assert {name: r["status"] for name, r in rows.items()} == {"a_base.yaml": "skipped", "b_child.yaml": "ok"}
    assert "template" in rows["a_base.yaml"]["message"]
    assert outcome.exit_status == 0 and seen.invalid == []
    assert outcome.counts["skipped"] == 1 and outcome.counts["invalid"] == 0
    assert sorted(p.name for p in out.iterdir()) == ["batch.csv", "child"]  # the child is no template
    # the command line lists it as skipped, exit 0
    monkeypatch.setattr(sys, "argv", ["tradeoff", "validate", str(src / "a_base.yaml"), str(src / "b_child.yaml")])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 0
    assert "a_base.yaml: template (only for extends)" in capsys.readouterr().out
    # run refuses it: exit 2, the file and the key named, no traceback
    monkeypatch.setattr(sys, "argv", ["tradeoff", "run", str(src / "a_base.yaml"), "--out", str(tmp_path / "o2")])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "a_base.yaml: template: this file is a template" in err and "Traceback" not in err
    # a template value that is not a boolean is refused where it is written
    write_scenario(src, "a_base.yaml", {"template": "yes", **template})
    with pytest.raises(ScenarioError) as info:
        scenarios.load(src / "b_child.yaml")
    assert "a_base.yaml: template: 'yes' is not true or false" in str(info.value)


def test_rules_missed_column(tmp_path):
    # Issue 15: the rules missed out of sample (summary.json service.rules_missed), ";"-joined
    write_scenario(tmp_path, "m.yaml", scenario_data("missing", "missed"))
    write_scenario(tmp_path, "k.yaml", scenario_data("kept"))
    run_batch([tmp_path / "m.yaml", tmp_path / "k.yaml"], tmp_path / "out", runner=fake_run)
    rows = read_batch_csv(tmp_path / "out")
    assert rows["m.yaml"]["rules_missed"] == "service.target;service.floors.A"
    assert rows["k.yaml"]["rules_missed"] == ""
    # a result reused by a later batch keeps its column (read from its summary.json)
    again = run_batch([tmp_path / "m.yaml"], tmp_path / "out2", runner=fake_run)
    assert again.rows[0]["rules_missed"] == "service.target;service.floors.A"
    reused = run_batch([tmp_path / "m.yaml"], tmp_path / "out2", runner=fake_run)
    assert reused.rows[0]["reused"] and reused.rows[0]["rules_missed"] == "service.target;service.floors.A"


def test_a_half_written_or_stale_result_is_not_taken_for_a_finished_one(tmp_path):
    from scenarios.hashing import content_hash
    from tradeoff.pipeline import load_scenario

    src = write_scenario(tmp_path, "s.yaml", scenario_data("half"))
    scenario_hash = content_hash(load_scenario(src))
    out = tmp_path / "out"
    run_batch([src], out, runner=fake_run)
    folder = out / "half"
    assert finished(folder, scenario_hash)
    assert not finished(folder, "0" * 16)  # another scenario's result
    assert not finished(folder, scenario_hash, engine="simpy")  # another engine's result

    # a kill while replacing files: summary.json is new, report.html (named in the manifest) missing
    (folder / "report.html").unlink()
    assert not finished(folder, scenario_hash)
    # a kill while staging: the writer's hidden folder is left behind (its pid is gone)
    stale = out / ".tmp-half-999999999-0123abcd"
    stale.mkdir()
    (stale / "plan.csv").write_text("partial")
    (folder / "my_notes.txt").write_text("a planner's own file")

    outcome = run_batch([src], out, runner=fake_run)
    assert outcome.rows[0]["status"] == "ok" and outcome.rows[0]["reused"] is False
    assert not stale.exists()
    assert finished(folder, scenario_hash)
    assert (folder / "my_notes.txt").read_text() == "a planner's own file"  # never touched


def test_clear_unfinished_removes_only_result_files(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "plan.csv").write_text("old")
    (folder / ".tradeoff-files").write_text("plan.csv\nsummary.json\n")
    (tmp_path / ".tmp-x-999999999-deadbeef").mkdir()
    (tmp_path / ".tmp-x-y-999999999-deadbeef").mkdir()  # another folder's ("x-y") staging
    (tmp_path / f".tmp-x-{os.getpid() + 10**7}-00000000").mkdir()
    clear_unfinished(tmp_path, "x")
    assert not folder.exists()
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert ".tmp-x-999999999-deadbeef" not in remaining and ".tmp-x-y-999999999-deadbeef" in remaining


def test_a_scenario_whose_worker_always_dies_is_reported_and_one_that_dies_once_is_retried(tmp_path):
    src = tmp_path / "s"
    src.mkdir()
    write_scenario(src, "a.yaml", scenario_data("survivor"))
    write_scenario(src, "b.yaml", scenario_data("killer", "die"))
    write_scenario(src, "c.yaml", scenario_data("unlucky", f"dieonce={tmp_path / 'flag'}"))
    out = tmp_path / "out"
    outcome = run_batch([src], out, jobs=2, runner=fake_run)
    rows = read_batch_csv(out)
    assert rows["a.yaml"]["status"] == "ok" and rows["c.yaml"]["status"] == "ok"
    assert (tmp_path / "flag").exists()  # c's worker really died once
    assert rows["b.yaml"]["status"] == "failed" and "died twice" in rows["b.yaml"]["message"]
    assert outcome.exit_status == 4
    assert not (out / "killer").exists()


def test_bad_options_are_invalid_input(tmp_path):
    from scenarios.errors import ScenarioError

    with pytest.raises(ScenarioError, match="--scheduler"):
        run_batch([tmp_path], tmp_path / "out", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ScenarioError, match="--jobs"):
        run_batch([tmp_path], tmp_path / "out", jobs=0)


def test_enums_reach_batch_csv_and_summary_by_their_value(tmp_path):
    """The solver status is a str-based enum, whose str() is `SolveStatus.optimal`: every file and
    row says `optimal` (found: batch.csv's solver_status column said `SolveStatus.optimal`)."""
    from optimizer.plan import SolveStatus
    from tradeoff.batch import headline, write_batch_csv
    from tradeoff import summary as summary_module
    from tradeoff.summary import summary_json

    cleaned = summary_module._clean({"solver": {"status": SolveStatus.time_limit}, SolveStatus.optimal: 1})
    assert cleaned == {"solver": {"status": "time_limit"}, "optimal": 1}
    assert type(cleaned["solver"]["status"]) is str and str(cleaned["solver"]["status"]) == "time_limit"
    assert json.loads(summary_json({"solver": {"status": SolveStatus.optimal}}))["solver"]["status"] == "optimal"
    values = headline({"scenario_hash": "h", "solver": {"status": SolveStatus.optimal}})
    assert values["solver_status"] == "optimal" and str(values["solver_status"]) == "optimal"
    path = write_batch_csv(tmp_path / "batch.csv", [
        {"file": "a.yaml", "status": "ok", "reused": False, "solver_status": SolveStatus.optimal},
        {"file": "b.yaml", "status": "ok", "reused": True, "solver_status": SolveStatus.time_limit, "cost_total": -0.5},
    ])
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["solver_status"] for r in rows] == ["optimal", "time_limit"]
    assert [r["reused"] for r in rows] == ["false", "true"] and rows[1]["cost_total"] == "-0.5"
