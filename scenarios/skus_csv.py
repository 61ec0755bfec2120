"""SKUs from a CSV file or an Excel workbook (`skus_csv: path`; .xlsx: scenarios.workbook) and empirical distributions from a CSV (`{dist: empirical, csv: path}`).

A SKU CSV has one row per SKU and the SKU's YAML keys as columns, nested keys flattened with dots:

    id,unit_cost,price,class,customers,demand.dist,demand.mean,demand.cv,current_policy.family,current_policy.s,current_policy.S,current_policy.mode

An empty cell means "not given" (the default applies). `demand` alone (a number) is a fixed demand.
`demand.values` holds the values of an empirical distribution separated by `;`. Compound demand uses
`demand.orders.dist`, `demand.orders.mean`, ..., `demand.size.dist`, ... . Text columns (`id`,
`class`, `*.dist`, `*.family`, `*.mode`, `*.csv`) are kept as text; the others are read as numbers.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import re
from typing import Any, Callable

from scenarios.errors import Problem, ScenarioError, show
from scenarios.merge import PathError, not_a_mapping, parse_path
from scenarios.schema_walk import did_you_mean
from scenarios.workbook import UNSAVED_RULE, extra_cells, is_workbook, read_sheet
from scenarios.yaml_io import MAX_BYTES, read_text, resolve_files

_DIST_PARAMS = ("value", "mean", "cv", "sd", "low", "high", "values", "csv", "block")
_POLICY_PARAMS = ("family", "mode", "s", "S", "Q", "R", "cap")
REQUIRED_COLUMNS = ("id", "unit_cost", "price")
_TEXT_LAST = ("dist", "family", "mode", "csv")
# A number in a CSV cell: ASCII digits with an optional sign, decimal point and exponent (12, -3,
# 0.25, .5, 1e5, 2.5E-3); spaces around it are ignored. Refused: digit separators (1_000, 1,000,
# 1 000), other scripts' digits (١٢, full-width １２), nan, inf, hexadecimal (0x10), which Python's
# float() or int() would accept, or a spreadsheet would read differently.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NUMBER_RULE = "a CSV number is written with the digits 0-9, an optional sign, '.' and exponent: no digit separators, nan or inf"
_ID_COLUMNS = ("id", "class")  # identifiers: kept exactly as written, so that stray spaces are reported


def sku_columns() -> list[str]:
    """Every column a SKU CSV may have (the SKU's YAML keys, flattened with dots)."""
    cols = ["id", "unit_cost", "price", "class", "customers", "demand", "demand.dist"]
    cols += [f"demand.{p}" for p in _DIST_PARAMS]
    for part in ("orders", "size"):
        cols += [f"demand.{part}", f"demand.{part}.dist"] + [f"demand.{part}.{p}" for p in _DIST_PARAMS]
    cols += [f"current_policy.{p}" for p in _POLICY_PARAMS]
    return cols


def _cell_reader(column: str) -> Callable[[str], Any]:
    """The function that types the cells of `column` (chosen once per column: a large CSV has
    hundreds of thousands of cells): identifiers stay as written, other text columns are stripped,
    `values` becomes a list, the rest become numbers. It raises ValueError(the offending text) for
    a number cell that is not a CSV number."""
    if column in _ID_COLUMNS:
        return _as_written
    last = column.rsplit(".", 1)[-1]
    if last in _TEXT_LAST:
        return str.strip
    if last == "values":
        return _values_cell
    return _number_cell


def _as_written(text: str) -> str:
    return text


def _values_cell(text: str) -> list[int | float]:
    parts = [p for p in re.split(r"[;\s]+", text.strip()) if p]
    out = [number(p) for p in parts]
    bad = [p for p, v in zip(parts, out) if v is None]
    if bad:
        raise ValueError(bad[0])
    return out


def _number_cell(text: str) -> int | float:
    text = text.strip()
    value = number(text)
    if value is None:
        raise ValueError(text)
    return value


def number(text: str) -> int | float | None:
    """The number a CSV cell holds (int when written without '.' or exponent), or None when the cell
    is not a CSV number (see NUMBER). Spaces around it are ignored."""
    text = text.strip(" \t")
    if NUMBER.fullmatch(text) is None:
        return None
    if "." in text or "e" in text or "E" in text:
        value = float(text)
        return value if math.isfinite(value) else None  # 1e999
    return int(text)  # only digits and a sign are left (NUMBER without fraction or exponent)


def read_skus_csv(path: str, display: str) -> tuple[list[dict], list[str]]:
    """Read a SKU CSV (or an Excel workbook, scenarios.workbook) into SKU mappings (as if written
    inline) and where each row is ("CSV line 3", or "sheet 'SKUs', row 3" in a workbook). The `csv`
    of an empirical distribution names a file relative to the SKU CSV's own folder (like every path
    inside a file, never the working folder) and is made absolute.
    Raises ScenarioError listing every problem of the file (unknown or missing columns, rows of the
    wrong length, cells that cannot be placed)."""
    if is_workbook(path):
        return _read_skus_workbook(path, display)
    text = read_text(path, display, what="SKU CSV")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ScenarioError([Problem(display, "", "SKU CSV is empty (needs a header row: id,unit_cost,price,...)")]) from None
    except csv.Error as exc:
        raise ScenarioError([Problem(display, "", f"line 1: not a readable CSV ({exc})")]) from None
    header = [h.strip() for h in header]
    _check_header(header, display)
    problems: list[Problem] = []

    def records():
        try:
            for record in reader:
                line = reader.line_num
                if not any(map(str.strip, record)):
                    continue  # blank line
                if len(record) != len(header):
                    problems.append(Problem(display, f"line {line}", f"has {len(record)} fields, the header has {len(header)}"))
                    continue
                yield f"CSV line {line}", record, lambda j, line=line: f"CSV line {line}"
        except csv.Error as exc:
            problems.append(Problem(display, f"line {reader.line_num}", f"not readable as CSV ({exc})"))

    rows, lines = _skus(header, records(), display, problems, os.path.dirname(os.path.abspath(path)))
    if not rows and not problems:
        problems.append(Problem(display, "", "SKU CSV has a header but no SKU rows"))
    if problems:
        raise ScenarioError(problems)
    return rows, lines


def _read_skus_workbook(path: str, display: str) -> tuple[list[dict], list[str]]:
    """read_skus_csv of an Excel workbook: its first worksheet, the same columns and cell rules;
    problems name the sheet and the row or cell."""
    sheet = read_sheet(path, display, "SKU workbook", MAX_BYTES)
    problems = [Problem(display, sheet.where(r, j), UNSAVED_RULE) for r, j in sheet.unsaved]
    if not sheet.header:
        raise ScenarioError(problems + [Problem(display, f"sheet {show(sheet.name)}", "is empty (needs a header row: "
                                                "id, unit_cost, price, ...)")])
    _check_header(sheet.header, display, problems, where=f"sheet {show(sheet.name)}, row {sheet.header_row}, ")
    n = len(sheet.header)

    def records():
        for r, cells in sheet.rows:
            extra = extra_cells(sheet, r, cells)
            if extra is not None:
                problems.append(Problem(display, extra.path, extra.rule))
                continue
            yield sheet.where(r), cells[:n], lambda j, r=r: sheet.where(r, j)

    rows, lines = _skus(sheet.header, records(), display, problems, os.path.dirname(os.path.abspath(path)))
    if not rows and not problems:
        problems.append(Problem(display, f"sheet {show(sheet.name)}", "has a header but no SKU rows"))
    if problems:
        raise ScenarioError(problems)
    return rows, lines


def _check_header(header: list[str], display: str, problems: list[Problem] | None = None, where: str = "") -> None:
    """Unknown, repeated and missing columns; raises ScenarioError (with `problems` found before) when any."""
    problems = problems if problems is not None else []
    known = sku_columns()
    found = []
    for j, col in enumerate(header):
        if col in header[:j]:
            found.append(Problem(display, f"{where}column {show(col)}", "appears twice in the header"))
        elif col not in known:
            found.append(Problem(display, f"{where}column {show(col)}", did_you_mean(col, known).replace("key", "column", 1)))
    for col in REQUIRED_COLUMNS:
        if col not in header:
            found.append(Problem(display, f"{where}column {show(col)}", "is missing (required column)"))
    if found:
        raise ScenarioError(problems + found)


def _skus(header: list[str], records, display: str, problems: list[Problem],
          base_dir: str) -> tuple[list[dict], list[str]]:
    """SKU mappings from `records` ((where the row is, its cells, where cell j is)), problems appended;
    empirical `csv` cells made absolute against `base_dir`."""
    rows: list[dict] = []
    lines: list[str] = []
    # `demand` (a bare number) before `demand.*`, so that mixing them is reported clearly
    order = sorted(range(len(header)), key=lambda j: header[j].count("."))
    columns = []
    for j in order:
        segs = parse_path(header[j])
        read = _cell_reader(header[j])
        if read is _number_cell:  # catalogues repeat numbers (prices, means, levels): each text is typed
            read = functools.cache(read)  # once per file; ints and floats can be shared, lists are not
        columns.append((j, header[j], segs[:-1], segs[-1], read))
    for where, record, cell_at in records:
        i = len(rows)
        sku: dict = {}
        for j, col, parents, key, read in columns:
            cell = record[j]
            if not cell or cell.isspace():
                continue  # not given (an id of only spaces is then missing, and reported so)
            try:
                value = read(cell)
                if parents:
                    _parent(sku, parents, key)[key] = value
                else:
                    sku[key] = value
            except PathError as exc:
                problems.append(Problem(display, f"skus[{i}].{col}", f"{exc} ({cell_at(j)})"))
            except ValueError as exc:
                problems.append(Problem(display, f"skus[{i}].{col}", f"is not a number ({cell_at(j)}); "
                                        f"{NUMBER_RULE}", exc.args[0], True))
        rows.append(sku)
        lines.append(where)
    if any(col.rsplit(".", 1)[-1] == "csv" for col in header):  # else no row has a `csv` to resolve
        resolve_files(rows, base_dir)
    return rows, lines


def _parent(sku: dict, parents: tuple[str, ...], key: str) -> dict:
    """The mapping of a SKU row that holds the column `parents.key`, made when missing (as set_path
    makes it). Raises set_path's PathError when a value already written is in the way (`demand`
    given as a number and `demand.dist` too)."""
    cur = sku
    for depth, name in enumerate(parents, start=1):
        nxt = cur.get(name)
        if nxt is None:
            nxt = cur[name] = {}
        elif not isinstance(nxt, dict):
            raise not_a_mapping(parents + (key,), depth, nxt)
        cur = nxt
    return cur


def _header_like(cell: str) -> bool:
    """Whether a first line reads as a column name rather than a mistyped number: it starts with a
    letter and is not nan/inf (a first line of '1_000', '١٢' or 'nan' is reported, not skipped)."""
    word = cell.strip().lstrip("+-").lower()
    return bool(word) and word[0].isalpha() and not word[0].isdigit() and word not in ("nan", "inf", "infinity")


def read_empirical_csv(path: str, display: str) -> list[float]:
    """Values of an empirical distribution: one column of numbers (a header line is allowed)."""
    text = read_text(path, display, what="empirical CSV")
    values: list[float] = []
    problems: list[Problem] = []
    for n, line in enumerate(text.splitlines(), start=1):
        cell = line.strip()
        if not cell:
            continue
        if "," in cell or ";" in cell or "\t" in cell:
            problems.append(Problem(display, f"line {n}", "has several columns; expected one column of numbers",
                                    cell, True))
            continue
        v = number(cell)
        if v is None:
            if n == 1 and _header_like(cell):
                continue  # a header
            problems.append(Problem(display, f"line {n}", f"is not a number ({NUMBER_RULE})", cell, True))
            continue
        values.append(v)
    if not values and not problems:
        problems.append(Problem(display, "", "empirical CSV has no values"))
    if problems:
        raise ScenarioError(problems)
    return values
