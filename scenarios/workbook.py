"""Excel workbooks (.xlsx) as input tables: the SKU master (`skus_csv`) and the sales history
(`demand_history_csv`) may be workbooks instead of CSV files (read with openpyxl, as pandas does).

The table is the workbook's first worksheet; its first non-empty row is the header, and every later
row is a record, numbered by its sheet row (the number Excel shows), so that a problem names the
sheet and the row (and the cell, where it is one cell's). Each cell becomes the text a CSV would
hold, and the CSV's rules apply to that text unchanged:

- empty -> "" (not given); text -> itself; a whole number (12 or 12.0) -> "12"; another number ->
  its shortest repr ("0.25", "1e-05"); TRUE/FALSE -> "TRUE"/"FALSE" (not a number: refused where a
  number is needed); a date -> "YYYY-MM-DD" (with "THH:MM:SS" when it has a time of day); an error
  value (#DIV/0!, #N/A) -> its text (refused where a number is needed).
- Cells are data, never formulas: a formula cell counts by the value Excel saved with it
  (openpyxl's data_only); a formula without a saved value (a workbook written by a program and never
  opened in Excel) is refused, naming the cell.

The file passes the same guards as every input (regular file, size limit), and a zip whose content
unpacks to much more than any real workbook (a zip bomb) is refused before it is parsed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from scenarios.errors import Problem, ScenarioError, excerpt, show
from scenarios.yaml_io import read_bytes

SUFFIXES = (".xlsx", ".xlsm")
UNSAVED_RULE = ("is a formula without a saved value (cells are data, never formulas: open and save the workbook "
                "in Excel, or paste the values)")
MAX_UNPACKED_BYTES = 4 * 1024 ** 3  # the workbook's XML, unpacked
MAX_UNPACK_RATIO = 200  # unpacked / packed size beyond which the zip is a bomb, not a sheet


def is_workbook(path: str | Path) -> bool:
    """Whether `path` names an Excel workbook (by its suffix: .xlsx or .xlsm)."""
    return Path(str(path)).suffix.lower() in SUFFIXES


def column_letter(j: int) -> str:
    """The column letter of 0-based column j (0 -> A, 26 -> AA)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass
class Sheet:
    """One worksheet as CSV-like text: `header` (cells of the header row, stripped), `header_row`
    (its sheet row), `rows` ((sheet row, cells as text padded to at least the header's length) of
    every non-empty row after the header), `name` (the worksheet's name), `unsaved` ((sheet row,
    0-based column) of each formula cell without a saved value: UNSAVED_RULE)."""

    name: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    unsaved: list[tuple[int, int]] = field(default_factory=list)

    def where(self, row: int, j: int | None = None) -> str:
        """'sheet 'SKUs', row 5' or, for one cell, 'sheet 'SKUs', cell C5'."""
        return f"sheet {show(self.name)}, " + (f"row {row}" if j is None else f"cell {column_letter(j)}{row}")


def cell_text(value) -> str:
    """The text a CSV would hold for a cell's value (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _check_zip(raw: bytes, display: str, what: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ScenarioError(Problem(display, "", f"is not an Excel workbook (.xlsx is a zip file; this {what} is "
                                    "not one: save it as .xlsx, or as CSV with a .csv name)")) from None
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_UNPACK_RATIO * max(len(raw), 1024 * 1024):
        raise ScenarioError(Problem(display, "", f"{what} unpacks to {unpacked / 1e6:.0f} MB from "
                                    f"{len(raw) / 1e6:.1f} MB: refused as a zip bomb, not read"))


def _load(raw: bytes, data_only: bool):
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=data_only)


def read_sheet(path: str | Path, display: str, what: str, max_bytes: int) -> Sheet:
    """The first worksheet of the workbook at `path` as a Sheet. Raises ScenarioError (file `display`)
    when it cannot be read as a workbook or has no worksheet, and lists every formula cell without
    a saved value in `Sheet.unsaved`."""
    raw = read_bytes(path, display, what=what, max_bytes=max_bytes)
    _check_zip(raw, display, what)
    try:
        wb = _load(raw, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise ScenarioError(Problem(display, "", f"is not a readable Excel workbook ({excerpt(type(exc).__name__)}: "
                                    f"{excerpt(str(exc))})")) from None
    try:
        if not wb.worksheets:
            raise ScenarioError(Problem(display, "", "the workbook has no worksheet"))
        ws = wb.worksheets[0]
        name = ws.title
        values: list[tuple[int, list]] = []
        formulas: list[tuple[int, int]] = []  # (index into values, column)
        for r, cells in enumerate(ws.iter_rows(), start=1):
            row = []
            for j, c in enumerate(cells):
                if getattr(c, "data_type", None) == "f":
                    formulas.append((len(values), j))
                row.append(getattr(c, "value", None))
            if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in row):
                values.append((r, row))
    finally:
        wb.close()
    unsaved: list[tuple[int, int]] = []
    if formulas:  # the values Excel saved with the formulas
        wb = _load(raw, data_only=True)
        try:
            cached = {r: list(getattr(c, "value", None) for c in cells)
                      for r, cells in enumerate(wb.worksheets[0].iter_rows(), start=1)}
        finally:
            wb.close()
        for k, j in formulas:
            r, row = values[k]
            saved = cached.get(r, [])
            value = saved[j] if j < len(saved) else None
            if value is None:
                unsaved.append((r, j))
            row[j] = value
    if not values:
        return Sheet(name, [], 0, [], unsaved)
    header_row, header_cells = values[0]
    header = [cell_text(v).strip() for v in header_cells]
    while header and header[-1] == "":
        header.pop()  # columns right of the last named one: a value there is reported (extra_cells)
    rows = []
    for r, cells in values[1:]:
        text = [cell_text(v) for v in cells]
        rows.append((r, text + [""] * (len(header) - len(text))))
    return Sheet(name, header, header_row, rows, unsaved)


def extra_cells(sheet: Sheet, row: int, cells: list[str]) -> Problem | None:
    """A row with a value right of the header's last column, as the CSV reader says of a row with
    more fields than the header (None when it has none)."""
    n = len(sheet.header)
    beyond = [j for j in range(n, len(cells)) if cells[j].strip()]
    if not beyond:
        return None
    return Problem("", sheet.where(row, beyond[0]), f"holds a value right of the header's last column "
                   f"({column_letter(n - 1) if n else 'none'}); the header has {n} columns")
