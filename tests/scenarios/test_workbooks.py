"""The SKU master (skus_csv) and the sales history (demand_history_csv) as Excel workbooks (.xlsx):
the same columns, cell rules and error paths as CSV, problems naming the sheet and the row or cell;
cells are data, never formulas (a formula counts by its saved value; one without is refused)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
import yaml

openpyxl = pytest.importorskip("openpyxl")

import scenarios  # noqa: E402
from scenarios.errors import ScenarioError  # noqa: E402
from scenarios.history import read_history  # noqa: E402
from scenarios.schema import Scenario  # noqa: E402
from scenarios.workbook import cell_text, column_letter  # noqa: E402


def workbook(path: Path, rows: list[list], title: str = "SKUs", first: list[list] | None = None) -> Path:
    """A workbook with `rows` on a sheet named `title` (the first sheet, unless `first` gives the rows
    of a sheet before it: then `rows` are on the second)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if first is not None:
        ws.title = "Other"
        for r in first:
            ws.append(r)
        ws = wb.create_sheet(title)
    else:
        ws.title = title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def scenario_yaml(tmp_path: Path, **extra) -> Path:
    data = {"format": 1, "name": "wb", "transport": [{"name": "truck", "lead_time": 2}], **extra}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


SKU_ROWS = [["id", "unit_cost", "price", "class", "demand.dist", "demand.mean", "demand.cv", "current_policy.family",
             "current_policy.s", "current_policy.S"],
            ["A1", 10, 14.5, "A", "poisson", 4, None, "sS", 5, 20],
            [1002, 3.25, 5, None, "negbin", 2.5, 0.8, None, None, None]]
SKU_CSV = ("id,unit_cost,price,class,demand.dist,demand.mean,demand.cv,current_policy.family,current_policy.s,"
           "current_policy.S\nA1,10,14.5,A,poisson,4,,sS,5,20\n1002,3.25,5,,negbin,2.5,0.8,,,\n")


def test_sku_master_workbook_loads_like_the_same_csv(tmp_path):
    workbook(tmp_path / "skus.xlsx", SKU_ROWS)
    (tmp_path / "skus.csv").write_text(SKU_CSV, encoding="utf-8")
    from_xlsx = scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    from_csv = scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.csv"))
    assert from_xlsx.skus == from_csv.skus
    assert from_xlsx.skus[1].id == "1002" and from_xlsx.skus[0].current_policy.S == 20


def test_a_bad_cell_names_the_sheet_and_cell_as_a_csv_line_is_named(tmp_path):
    rows = [r[:] for r in SKU_ROWS]
    rows[2][1] = "1,5"  # a decimal comma: not a number, in CSV as in a workbook
    workbook(tmp_path / "skus.xlsx", rows)
    with pytest.raises(ScenarioError) as e:
        scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    msg = str(e.value)
    assert "skus.xlsx: skus[1].unit_cost: '1,5' is not a number (sheet 'SKUs', cell B3)" in msg
    # validation after reading names the sheet row, as it names the CSV line
    rows = [r[:] for r in SKU_ROWS]
    rows[2][1] = -1
    workbook(tmp_path / "skus.xlsx", rows)
    with pytest.raises(ScenarioError) as e:
        scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    assert "skus.xlsx: skus[1].unit_cost: -1 is not > 0 (sheet 'SKUs', row 3)" in str(e.value)


def test_workbook_header_problems_and_rows_right_of_the_header(tmp_path):
    workbook(tmp_path / "skus.xlsx", [["id", "unit_cost", "prize"], ["A", 1, 2]])
    with pytest.raises(ScenarioError) as e:
        scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    msg = str(e.value)
    assert "skus.xlsx: sheet 'SKUs', row 1, column 'prize': unknown column 'prize'" in msg
    assert "column 'price': is missing (required column)" in msg
    workbook(tmp_path / "skus.xlsx", [["id", "unit_cost", "price", "demand"], ["A", 1, 2, 3],
                                      [None], ["B", 1, 2, 3, "stray"]])
    with pytest.raises(ScenarioError) as e:
        scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    assert "skus.xlsx: sheet 'SKUs', cell E4: holds a value right of the header's last column (D)" in str(e.value)


def test_the_first_sheet_is_the_table_and_booleans_are_not_numbers(tmp_path):
    workbook(tmp_path / "skus.xlsx", [["id", "unit_cost", "price", "demand"], ["A", 1, 2, 3]], title="Master",
             first=[["id", "unit_cost", "price", "demand"], ["Z", True, 2, 3]])
    with pytest.raises(ScenarioError) as e:
        scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    assert "skus[0].unit_cost: 'TRUE' is not a number (sheet 'Other', cell B2)" in str(e.value)


def _formula_book(path: Path, cached: str | None) -> Path:
    """A workbook whose D2 holds =2+1, with `cached` as the value Excel would have saved (None: none),
    written as Excel does (the sheet XML edited: openpyxl writes formulas without values)."""
    workbook(path, [["id", "unit_cost", "price", "demand"], ["A", 1, 2, "=2+1"]])
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    value = f"<v>{cached}</v>" if cached is not None else ""
    xml, n = re.subn(r"<f>2\+1</f>(<v\s*/>|<v></v>)?", "<f>2+1</f>" + value, xml)
    assert n == 1, xml
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return path


def test_a_formula_counts_by_its_saved_value_and_one_without_is_refused(tmp_path):
    _formula_book(tmp_path / "skus.xlsx", "3")
    s = scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    assert s.skus[0].demand.value == 3  # the saved value, never the formula's text
    _formula_book(tmp_path / "skus.xlsx", None)
    with pytest.raises(ScenarioError) as e:
        scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))
    assert "skus.xlsx: sheet 'SKUs', cell D2: is a formula without a saved value" in str(e.value)


def test_a_file_named_xlsx_that_is_no_workbook_is_refused(tmp_path):
    (tmp_path / "skus.xlsx").write_text(SKU_CSV, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"skus.xlsx: is not an Excel workbook"):
        scenarios.load(scenario_yaml(tmp_path, skus_csv="skus.xlsx"))


# ----------------------------------------------------------------------------- sales history
def history_scenario(path: Path, ppy=365) -> Scenario:
    return Scenario.model_validate({
        "format": 1, "name": "h", "transport": [{"name": "truck", "lead_time": 2}],
        "horizon": {"periods_per_year": ppy}, "demand_history_csv": str(path),
        "skus": [{"id": i, "unit_cost": 2.0, "price": 3.0} for i in ("A", "B")],
    })


def test_history_workbook_with_dates_reads_like_the_csv(tmp_path):
    rows = [["sku", "date", "quantity"]]
    csv = ["sku,date,quantity"]
    for d in range(1, 29):
        day = dt.date(2024, 1, d)
        rows.append(["A", day, d % 3])
        rows.append(["B", dt.datetime(2024, 1, d), 2.0 if d % 5 else 0])
        csv += [f"A,{day.isoformat()},{d % 3}", f"B,{day.isoformat()},{2 if d % 5 else 0}"]
    p = workbook(tmp_path / "sales.xlsx", rows, title="Sales")
    (tmp_path / "sales.csv").write_text("\n".join(csv) + "\n", encoding="utf-8")
    from_xlsx = read_history(p, history_scenario(p), "s.yaml")
    from_csv = read_history(tmp_path / "sales.csv", history_scenario(tmp_path / "sales.csv"), "s.yaml")
    assert from_xlsx.periods == from_csv.periods == 28
    for k in ("A", "B"):
        assert from_xlsx.series[k].tolist() == from_csv.series[k].tolist()


def test_history_workbook_bad_cells_name_the_sheet_and_row(tmp_path):
    rows = [["sku", "period", "quantity"], ["A", 1, 4], ["B", 1, -1], ["A", 2, "lots"], ["B", 2, 3],
            ["A", "=1/0", 2]]
    p = workbook(tmp_path / "sales.xlsx", rows, title="Sales")
    with pytest.raises(ScenarioError) as e:
        read_history(p, history_scenario(p), "s.yaml")
    msg = str(e.value)
    assert "sales.xlsx, sheet 'Sales': demand_history_csv[3].quantity: -1.0 is negative" in msg
    assert "sales.xlsx, sheet 'Sales': demand_history_csv[4].quantity: 'lots' is not a number" in msg
    # the formula: written by a program, never saved by Excel, so it has no value
    assert "sales.xlsx, sheet 'Sales': demand_history_csv[6]: cell B6 is a formula without a saved value" in msg


def test_history_workbook_through_the_loader(tmp_path):
    rows = [["sku", "period", "quantity"]] + [[k, t, (t * 7 + len(k)) % 5] for t in range(1, 41) for k in ("A", "B")]
    workbook(tmp_path / "sales.xlsx", rows, title="Sales")
    p = scenario_yaml(tmp_path, demand_history_csv="sales.xlsx",
                      skus=[{"id": "A", "unit_cost": 2.0, "price": 3.0}, {"id": "B", "unit_cost": 2.0, "price": 3.0}])
    s = scenarios.load(p)
    assert all(k.demand is not None for k in s.skus)


def test_cell_text_is_what_a_csv_would_hold():
    assert [cell_text(v) for v in (None, 12, 12.0, 0.25, 1e-05, True, dt.date(2024, 2, 3),
                                   dt.datetime(2024, 2, 3), dt.datetime(2024, 2, 3, 10, 30), "x ")] == \
        ["", "12", "12", "0.25", "1e-05", "TRUE", "2024-02-03", "2024-02-03", "2024-02-03T10:30:00", "x "]
    assert [column_letter(j) for j in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
