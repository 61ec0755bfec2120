"""Paths: inputs resolve relative to the scenario file, results land only under --out, no name can
reach outside it, and nothing else on disk is touched.

Already covered elsewhere (not repeated here): extends chains and CSVs relative to the declaring
file (tests/scenarios/test_loader_merge.py), unsafe result names and symlinked folders
(tests/tradeoff/test_results_io.py), unrelated files kept and foreign result files refused
(tests/tradeoff/test_run.py).
"""

from __future__ import annotations


import pytest

import scenarios
from scenarios.errors import ScenarioError
from tests.cli_run import run_cli
from small_scenario import small_scenario  # tests/reliability/small_scenario.py
from tradeoff.pipeline import run
from tradeoff.results_io import MANIFEST, OutputError

BASE = small_scenario("base", 1)
CHILD = """\
extends: ../shared/base.yaml
name: child
skus_csv: skus.csv
"""
SKUS_CSV = "id,unit_cost,price,demand.dist,demand.csv\na,5,9,empirical,data/a.csv\nb,12,20,empirical,data/b.csv\n"


cli = run_cli


def tree(root) -> dict:
    """Every file under root (relative path -> bytes) and every folder (relative path -> None)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def project(tmp_path):
    """A scenario that extends a parent in a sibling folder and reads its SKUs and their empirical
    demand from CSVs, all by paths relative to the declaring file; an unrelated file next to it."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text(BASE)
    child = tmp_path / "plans"
    (child / "data").mkdir(parents=True)
    (child / "child.yaml").write_text(CHILD)
    (child / "skus.csv").write_text(SKUS_CSV)
    (child / "data" / "a.csv").write_text("value\n3\n4\n5\n6\n")
    (child / "data" / "b.csv").write_text("value\n1\n2\n0\n3\n")
    (tmp_path / "notes.txt").write_text("unrelated")
    return tmp_path


def test_relative_inputs_resolve_from_the_scenario_and_results_land_only_under_out(project, monkeypatch):
    """Run from an unrelated working folder: extends, skus_csv and demand CSVs are found relative to
    the files that name them (not the working folder); the only new things on disk are the result
    folder under --out and its files; nothing is left in the working folder or next to the inputs."""
    work = project / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    before = tree(project)
    sc = scenarios.load("../plans/child.yaml")
    assert [s.id for s in sc.skus] == ["a", "b"] and sc.skus[1].demand.values == (1, 2, 0, 3)
    assert cli(monkeypatch, "run", "../plans/child.yaml", "--out", "../results") == 0
    after = tree(project)
    new = sorted(set(after) - set(before))
    parts = [n for n in new if n.startswith("results/child/candidates.parquet/")]  # one per SKU chunk
    assert parts and all(n.endswith(".parquet") for n in parts)
    assert [n for n in new if n not in parts] == ["results", "results/child", *sorted(f"results/child/{n}" for n in (
        MANIFEST, "plan.csv", "frontier.csv", "candidates.parquet", "summary.json", "report.html"))]
    assert {k: v for k, v in after.items() if k in before} == before  # nothing else changed


@pytest.mark.parametrize("override", [
    {"name": "../escape"},
    {"name": "a/b"},
    {"name": ".."},
])
def test_a_scenario_name_cannot_leave_out(project, monkeypatch, override):
    path = project / "shared" / "base.yaml"
    before = tree(project)
    args = [a for k, v in override.items() for a in ("--set", f"{k}={v}")]
    assert cli(monkeypatch, "run", path, "--out", project / "results", *args) == 2
    assert tree(project) == before


def test_a_variant_name_cannot_leave_out(project, monkeypatch):
    path = project / "shared" / "base.yaml"
    path.write_text(BASE + "variants:\n  ../../x: {seed: 3}\n")
    before = tree(project)
    with pytest.raises(ScenarioError, match="not a valid variant name"):
        scenarios.load(path)
    assert cli(monkeypatch, "run", path, "--out", project / "results", "--variant", "../../x") == 2
    assert tree(project) == before


def test_a_scenario_object_with_a_forced_name_is_refused_before_any_work(project, monkeypatch):
    """The Python API takes Scenario objects; one whose name was forced past validation still
    cannot make `run` write outside --out, and it is refused before the simulation starts."""
    sc = scenarios.load(project / "shared" / "base.yaml").model_copy(update={"name": "../escape"})
    monkeypatch.setattr("tradeoff.pipeline.search", lambda *a: pytest.fail("work started"))
    before = tree(project)
    with pytest.raises(OutputError, match="not a safe result folder name"):
        run(sc, out=project / "results")
    assert tree(project) == before


@pytest.mark.parametrize("out", ["notes.txt", "notes.txt/sub"])
def test_a_file_where_out_should_be_is_refused_before_any_work(project, monkeypatch, out):
    """--out naming an existing file (or a path through one) is invalid input (exit 2) found before
    any work, and the file is left as it was (before: FileExistsError after the whole run)."""
    monkeypatch.setattr("tradeoff.pipeline.search", lambda *a: pytest.fail("work started"))
    before = tree(project)
    with pytest.raises(OutputError, match="is not a folder"):
        run(project / "shared" / "base.yaml", out=project / out)
    assert cli(monkeypatch, "run", project / "shared" / "base.yaml", "--out", project / out) == 2
    assert tree(project) == before
