"""tradeoff.read(folder) gives back the Result a run wrote (tables equal, ids restored, the summary's
figures as attributes); an unfinished or damaged folder is refused naming the folder and the reason;
the repr is a few lines. And tradeoff's own imports have no cycle (pipeline -> results_io -> report
-> comparison, never back)."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

import scenarios
import tradeoff
from tradeoff.result import Result, ResultUnreadable
from tradeoff.results_io import MANIFEST

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from small_scenario import small_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A small scenario whose SKU ids a spreadsheet would take for formulas ('-a', '=b'), run to a folder."""
    base = tmp_path_factory.mktemp("read")
    path = base / "odd-ids.yaml"
    path.write_text(small_scenario("odd-ids", 3).replace("id: a,", "id: '-a',").replace("id: b,", "id: '=b',"))
    result = tradeoff.run(str(path), out=base / "out")
    return path, result


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    # CSV holds numbers to 10 significant digits and no dtypes (an integral float column reads back as int)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-8, atol=1e-12)


def test_read_gives_back_the_tables_and_summary(ran):
    path, result = ran
    back = tradeoff.read(result.out_dir)
    assert isinstance(back, Result) and back.out_dir == result.out_dir
    assert back.plan["sku"].tolist() == ["-a", "=b", "c"]  # ids as the scenario spells them, not neutralised
    same(result.plan, back.plan)
    same(result.frontier, back.frontier)
    assert back.frontier["cost_optimal"].dtype == bool
    same(result.candidates, back.candidates)
    assert back.audit is None and result.audit is None
    assert back.summary == json.loads(json.dumps(result.summary))
    # without a scenario: None, and what summary.json records
    assert back.scenario is None and back.scenario_name == "odd-ids"
    assert back.scenario_hash == scenarios.content_hash(result.scenario)
    assert back.cost_per_year is None and back.cost_per_period == pytest.approx(result.cost_per_period)


def test_read_with_the_scenario_attaches_it_when_the_hash_matches(ran, tmp_path):
    path, result = ran
    back = tradeoff.read(result.out_dir, path)
    assert back.scenario == result.scenario
    assert back.cost_per_year == pytest.approx(result.cost_per_year)
    assert tradeoff.read(result.out_dir, result.scenario).scenario == result.scenario
    other = tmp_path / "other.yaml"
    other.write_text(path.read_text().replace("order_cost: 15.0", "order_cost: 16.0"))
    with pytest.raises(ResultUnreadable, match="another scenario content"):
        tradeoff.read(result.out_dir, other)


def test_summary_figures_are_attributes(ran):
    _, r = ran
    assert r.status == r.summary["solver"]["status"] == "optimal"
    assert [c.as_dict() for c in r.rules] == r.summary["service"]["rules"]
    assert r.rules_missed == [c.rule for c in r.rules if not c.met]
    assert set(r.timings) >= {"load", "simulate", "select", "verify"} and all(v >= 0 for v in r.timings.values())
    assert r.service_metric == "fill_rate" and r.service_achieved == r.summary["service"]["achieved"]
    assert r.skus == 3
    assert r.cost_per_year == pytest.approx(r.summary["totals"]["cost_total"] * r.scenario.horizon.periods_per_year)


def test_repr_is_a_few_lines_and_no_table(ran):
    _, r = ran
    for shown in (repr(r), repr(tradeoff.read(r.out_dir))):
        lines = shown.splitlines()
        assert 3 <= len(lines) <= 5 and all(len(line) < 120 for line in lines)
        assert "'odd-ids'" in lines[0] and "3 SKUs" in shown and "fill_rate" in shown and "optimal" in shown
        assert "cost_total" not in shown and "=b" not in shown  # no DataFrame dumped
    assert "cost per year" in repr(r)


def copy_folder(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("damage, reason", [
    (lambda d: (d / "plan.csv").write_text((d / "plan.csv").read_text() + "x\n"), "damaged"),
    (lambda d: next((d / "candidates.parquet").iterdir()).unlink(), "damaged"),  # one part of the dataset
    (lambda d: (d / MANIFEST).unlink(), "damaged"),
    (lambda d: (d / "summary.json").unlink(), "incomplete"),
])
def test_a_damaged_folder_is_refused_naming_it(ran, tmp_path, damage, reason):
    _, r = ran
    folder = copy_folder(r.out_dir, tmp_path / "copy")
    assert tradeoff.read(folder).plan.shape == r.plan.shape  # an intact copy reads
    damage(folder)
    with pytest.raises(ResultUnreadable) as info:
        tradeoff.read(folder)
    message = str(info.value)
    assert str(folder) in message and "is not a finished result" in message and reason in message
    assert isinstance(info.value, scenarios.errors.ScenarioError)  # invalid input: exit 2


def test_an_absent_folder_is_refused(tmp_path):
    with pytest.raises(ResultUnreadable, match="no result yet"):
        tradeoff.read(tmp_path / "nothing")


# --------------------------------------------------------------------------- no import cycle
def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """tradeoff's modules -> the tradeoff modules each imports, at the top level or inside a function
    (every `import tradeoff...` / `from tradeoff... import` statement in the file)."""
    modules = {_module_of(p): p for p in (ROOT / "tradeoff").rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "tradeoff":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    edges.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name.split(".")[0] == "tradeoff"}
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(u: str) -> None:
        state[u] = "open"
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == "open":
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = "done"

    for u in sorted(graph):
        if u not in state:
            visit(u)
    return found


def test_tradeoff_imports_have_no_cycle():
    graph = import_graph()
    assert {"tradeoff.pipeline", "tradeoff.results_io", "tradeoff.report.page", "tradeoff.comparison"} <= set(graph)
    assert "tradeoff.comparison" in graph["tradeoff.report.page"]  # the page's table comes from comparison
    assert cycles(graph) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
