"""Demand from sales history: read `demand_history_csv` (a CSV file, or an Excel workbook: its first
worksheet, each cell read as the text a CSV would hold, see scenarios.workbook), aggregate it to the scenario's period, and
give every SKU without an explicit `demand` the model chosen by scenarios.demand_fit.

The CSV has columns `sku`, `quantity` and one of `period` (whole numbers: already scenario periods)
or `date` (ISO 8601 dates, also accepted in a `period` column; 8-digit numbers that are all valid
YYYYMMDD dates are read as dates). Dates are bucketed by
`horizon.periods_per_year`: 360-366 -> day, 50-53 -> week (Monday to Sunday), 12 -> month,
4 -> quarter, 1 -> year, anything else -> blocks of round(365.25 / periods_per_year) days from the
first date. Rows of the same SKU and period are summed; periods inside the history window (first to
last period in the rows of the scenario's SKUs) with no row are zero demand. A partial first or last
bucket (dates not covering it fully) is dropped, so that a half week does not read as a slow week.
Rows of SKUs the scenario does not plan are ignored and named once (history_warnings); a SKU whose
rows hold no sale gets demand 0 (no stock).
An optional `customer` column (text identifiers) is summed over for the demand; when the scenario's
`customer_tiers` give no `share`, it also ranks the customers by annual spend into tiers and gives
each SKU its `tier_shares` (scenarios.customer_tiers). Otherwise it is ignored.
Bad input is reported all at once as a ScenarioError (exit 2); see docs/demand-from-history.md.
"""

from __future__ import annotations

import csv
import io
import re
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.customer_tiers import (
    tier_demand_from_history,
    tier_problems_and_shares,
    tiers_from_history,
    with_sku_field,
)
from scenarios.demand_fit import DemandFit, fit_demand
from scenarios.errors import Problem, ScenarioError, excerpt, show
from scenarios.schema import Fixed, Scenario, dist_mean, dist_var, identifier_rule, normal_id
from scenarios.skus_csv import NUMBER, NUMBER_RULE
from scenarios.workbook import UNSAVED_RULE, column_letter, extra_cells, is_workbook, read_sheet
from scenarios.yaml_io import MAX_HISTORY_BYTES, read_bytes

FIELD = "demand_history_csv"
MAX_PERIODS = 100_000  # a longer window is a mistake (e.g. yyyymmdd numbers in `period`)
MAX_ROW_PROBLEMS = 20  # per kind of problem; then one line says how many more rows share it


@dataclass(frozen=True)
class History:
    """Per-SKU demand series (units per scenario period, zeros filled) over one common window."""

    series: dict  # sku id -> float64[periods]
    periods: int
    bucket: str  # how dates became periods, in words
    first: str  # label of the first and last period of the window
    last: str
    listed: frozenset = frozenset()  # SKU ids with at least one row, valid or not
    flagged: frozenset = frozenset()  # SKU ids with at least one invalid row
    # SKUs in the file that the scenario does not plan: (id, rows, first line), in file order; their
    # rows are ignored (not checked, not in the window)
    unplanned: tuple = ()
    # units per (sku, customer) inside the window (columns sku, customer, quantity), when the CSV has
    # a customer column and the scenario's tiers are taken from it; else None
    customer_units: pd.DataFrame | None = field(default=None, compare=False)
    # the same per period (columns sku, customer, t, quantity; t the period in the window), for each
    # tier's own demand model (customer_tiers.demand own); None with customer_units
    customer_periods: pd.DataFrame | None = field(default=None, compare=False)


def period_rule(periods_per_year: float) -> tuple[str, str | int]:
    """How dates are bucketed into scenario periods: ("pandas", freq) or ("days", k)."""
    ppy = float(periods_per_year)
    if 360 <= ppy <= 366:
        return "pandas", "D"
    if 50 <= ppy <= 53:
        return "pandas", "W-SUN"  # weeks ending Sunday, i.e. Monday to Sunday
    for freq, n in (("M", 12), ("Q", 4), ("Y", 1)):
        if ppy == n:
            return "pandas", freq
    return "days", max(1, round(365.25 / ppy))


def _bucket_words(rule: tuple[str, str | int]) -> str:
    kind, arg = rule
    if kind == "days":
        return f"blocks of {arg} days from the first date"
    return {"D": "day", "W-SUN": "week (Monday to Sunday)", "M": "calendar month", "Q": "calendar quarter",
            "Y": "calendar year"}[arg]


def _decode(path: Path, name: str, problems: list[Problem]) -> str | None:
    try:  # the one reader of input files: regular files only (no FIFO, device, /proc or /sys file)
        raw = read_bytes(path, name, what="demand history CSV", max_bytes=MAX_HISTORY_BYTES)
    except ScenarioError as e:
        problems.extend(Problem(name, FIELD, f"cannot be read: {p.rule}") for p in e.problems)
        return None
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        problems.append(Problem(name, f"{FIELD}[{line}]", f"is binary, not text (NUL byte at offset {nul})"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        problems.append(Problem(name, f"{FIELD}[{line}]", f"byte {raw[e.start]:#04x} at offset {e.start} "
                                "is not UTF-8 (save the file as UTF-8)"))
        return None


def _ragged(text: str) -> Problem | None:
    """The first row with more fields than the header, as the engine words it (pandas only says it failed)."""
    rows = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        header = next(rows)
        for record in rows:
            if len(record) > len(header):
                return Problem("", f"{FIELD}[{rows.line_num}]", f"has {len(record)} fields, the header has {len(header)}")
    except (StopIteration, csv.Error) as e:
        return Problem("", f"{FIELD}[{rows.line_num}]", f"is not readable as CSV ({excerpt(str(e))})") \
            if isinstance(e, csv.Error) else None
    return None


def _columns(columns) -> str:
    names = [excerpt(str(c), 40) for c in list(columns)[:12]]
    more = f", ... ({len(columns)} columns)" if len(columns) > 12 else ""
    return (", ".join(names) or "none") + more


def _capped(problems: list[Problem], found: list[Problem], name: str, what: str) -> None:
    problems.extend(found[:MAX_ROW_PROBLEMS])
    if len(found) > MAX_ROW_PROBLEMS:
        problems.append(Problem(name, FIELD, f"... and {len(found) - MAX_ROW_PROBLEMS} more rows with {what}"))


def _periods_from_dates(dates: pd.Series, rule) -> tuple[np.ndarray, list[str], int, int]:
    """Period index (0 = first kept bucket) per row, labels of the kept buckets, and how many
    buckets were dropped at the start and at the end for being partial."""
    kind, arg = rule
    first_day, last_day = dates.min().normalize(), dates.max().normalize()
    if kind == "days":
        idx = ((dates.dt.normalize() - first_day).dt.days // arg).to_numpy()
        n = int(idx.max()) + 1
        starts = [first_day + pd.Timedelta(days=arg * i) for i in range(n)]
        labels = [d.strftime("%Y-%m-%d") for d in starts]
        drop_first = False
        drop_last = (last_day - starts[-1]).days + 1 < arg
    else:
        per = dates.dt.to_period(arg)
        ords = pd.PeriodIndex(per).asi8
        lo = int(ords.min())
        idx = ords - lo
        n = int(idx.max()) + 1
        first_p, last_p = per.min(), per.max()
        labels = [str(first_p + i) for i in range(n)]
        drop_first = first_day > first_p.start_time
        drop_last = last_day < last_p.end_time.normalize()
    if n - int(drop_first) - int(drop_last) < 2:
        drop_first = drop_last = False  # too short to lose a bucket; keep what there is
    return idx - int(drop_first), labels[int(drop_first): n - int(drop_last)], int(drop_first), int(drop_last)


def _parse(path: Path, known: frozenset, periods_per_year: float,
           customers: bool = False) -> tuple[History, list[Problem]]:
    """The history of the CSV and the problems of its rows (SKU ids checked against `known`).
    `customers`: read and check the `customer` column (when there is one) into `customer_units`."""
    name = path.name
    problems: list[Problem] = []
    if is_workbook(path):
        df, line, name = _workbook_frame(path, problems)
    else:
        df = _csv_frame(path, name, problems)
        line = np.arange(len(df)) + 2
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("sku", "quantity") if c not in df.columns]
    time_cols = [c for c in ("period", "date") if c in df.columns]
    if len(time_cols) == 0:
        missing.append("period or date")
    if missing:
        raise ScenarioError(Problem(name, FIELD, f"misses column(s) {', '.join(missing)} "
                                    f"(found: {_columns(df.columns)})"))
    if len(time_cols) == 2:
        raise ScenarioError(Problem(name, FIELD, "has both a period and a date column; keep one"))
    if len(df) == 0:
        raise ScenarioError(Problem(name, FIELD, "has no data rows"))
    time_col = time_cols[0]
    sku = df["sku"].str.strip().map(normal_id)  # ids compare as NFC, as the scenario's own

    # SKUs the scenario does not plan: listed once (warning) and their rows ignored, unchecked; the
    # history window is that of the scenario's SKUs
    empty = (sku == "").to_numpy()
    unknown = ~sku.isin(known).to_numpy() & ~empty
    unplanned: tuple = ()
    if unknown.any():
        first_rows = pd.Series(line[unknown]).groupby(sku[unknown].to_numpy()).agg(["min", "size"])
        unplanned = tuple((str(sid), int(r["size"]), int(r["min"]))
                          for sid, r in first_rows.sort_values("min").iterrows())
        keep_rows = ~unknown
        df, line, sku, empty = df[keep_rows].reset_index(drop=True), line[keep_rows], \
            sku[keep_rows].reset_index(drop=True), empty[keep_rows]
    ok = np.ones(len(df), dtype=bool)

    # quantity: a finite number >= 0, written as a CSV number (ASCII digits, no separators, no nan/inf)
    raw_q = df["quantity"].str.strip()
    strict = raw_q.map(lambda x: NUMBER.fullmatch(x) is not None).to_numpy(dtype=bool)
    qty = pd.to_numeric(raw_q.where(strict, ""), errors="coerce").to_numpy(dtype=float)
    bad_num = ~np.isfinite(qty)
    _capped(problems, [Problem(name, f"{FIELD}[{line[i]}].quantity", f"is not a number ({NUMBER_RULE})",
                               df["quantity"].iat[i], True)
                       for i in np.nonzero(bad_num)[0]], name, "a quantity that is not a number")
    neg = np.isfinite(qty) & (qty < 0)
    _capped(problems, [Problem(name, f"{FIELD}[{line[i]}].quantity", "is negative (demand history must be "
                               "units demanded >= 0; net returns out first)", float(qty[i]), True)
                       for i in np.nonzero(neg)[0]], name, "a negative quantity")
    ok &= ~bad_num & ~neg

    # sku: non-empty (ids the scenario does not plan were set aside above)
    _capped(problems, [Problem(name, f"{FIELD}[{line[i]}].sku", "is empty") for i in np.nonzero(empty)[0]],
            name, "an empty sku")
    ok &= ~empty

    # customer: read only when the tiers come from it; an identifier (no hidden characters)
    cust = None
    if customers and "customer" in df.columns:
        raw_c = df["customer"].str.strip(" \t")  # Python's strip() would also eat \x1c-\x1f: refused below
        c_empty = (raw_c == "").to_numpy()
        _capped(problems, [Problem(name, f"{FIELD}[{line[i]}].customer", "is empty (every row names its customer "
                                   "when the customer tiers are taken from the history)")
                           for i in np.nonzero(c_empty)[0]], name, "an empty customer")
        rules = raw_c.map(lambda v: identifier_rule(v) if v else None)
        c_bad = rules.notna().to_numpy()
        _capped(problems, [Problem(name, f"{FIELD}[{line[i]}].customer", rules.iat[i])
                           for i in np.nonzero(c_bad)[0]], name, "a customer id that is not plain visible text")
        cust = raw_c.map(normal_id)
        ok &= ~c_empty & ~c_bad

    # time: whole numbers are scenario periods; otherwise ISO 8601 dates
    raw_t = df[time_col].str.strip()
    digits = raw_t.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)  # any script's digits
    foreign = digits & ~raw_t.str.fullmatch(r"[+-]?[0-9]+").to_numpy(dtype=bool)
    raw_t = raw_t.where(~foreign, "0")  # '٥' or '５' is no period here: reported, its row dropped
    use_ints = time_col == "period" and bool(digits.all())
    if use_ints and foreign.any():
        _capped(problems, [Problem(name, f"{FIELD}[{line[i]}].period", "is not a whole period number "
                                   "(write it with the digits 0-9)", df[time_col].iat[i], True)
                           for i in np.nonzero(foreign)[0]], name, "a period not written with the digits 0-9")
        ok &= ~foreign
    elif foreign.any():
        raw_t = raw_t.where(~foreign, "")
    if use_ints and bool(raw_t.str.fullmatch(r"[0-9]{8}").all()) and \
            not pd.to_datetime(raw_t, format="%Y%m%d", errors="coerce").isna().any():
        use_ints = False  # YYYYMMDD numbers are ISO 8601 basic dates, not 20 million periods
    if use_ints:
        tval = raw_t.astype(np.int64).to_numpy()
        bucket = "period numbers as given"
    else:
        dates = pd.to_datetime(raw_t, format="ISO8601", errors="coerce")
        bad_t = dates.isna().to_numpy()
        _capped(problems, [Problem(name, f"{FIELD}[{line[i]}].{time_col}", "is not a date (use ISO 8601, "
                                   "YYYY-MM-DD)" + (" or a whole period number in every row" if time_col == "period"
                                                    else ""), df[time_col].iat[i], True)
                           for i in np.nonzero(bad_t)[0]], name, f"an unparseable {time_col}")
        ok &= ~bad_t

    series: dict[str, np.ndarray] = {}
    customer_units: pd.DataFrame | None = None
    customer_periods: pd.DataFrame | None = None
    periods, first, last, bucket = 0, "", "", "period numbers as given"
    if ok.any():
        if use_ints:
            t = tval[ok] - int(tval[ok].min())
            periods = int(t.max()) + 1
            if periods > MAX_PERIODS:
                raise ScenarioError(problems + [Problem(
                    name, f"{FIELD}.period",
                    f"numbers span {periods} periods (more than {MAX_PERIODS}); use dates or consecutive numbers")])
            first, last = str(int(tval[ok].min())), str(int(tval[ok].max()))
        else:
            rule = period_rule(periods_per_year)
            bucket = _bucket_words(rule)
            t, labels, d0, d1 = _periods_from_dates(dates[ok].reset_index(drop=True), rule)
            periods = len(labels)
            first, last = labels[0], labels[-1]
            if d0 or d1:
                bucket += f" (partial {' and '.join(w for w, d in (('first', d0), ('last', d1)) if d)} bucket dropped)"
        keep = (t >= 0) & (t < periods)
        frame = pd.DataFrame({"sku": sku[ok].to_numpy()[keep], "t": t[keep], "q": qty[ok][keep]})
        for sid, grp in frame.groupby("sku", sort=True):  # summed over customers, if any
            x = np.zeros(periods)
            np.add.at(x, grp["t"].to_numpy(), grp["q"].to_numpy())
            series[sid] = x
        if cust is not None:
            frame["customer"] = cust[ok].to_numpy()[keep]
            customer_periods = (frame.groupby(["sku", "customer", "t"], sort=True)["q"].sum()
                                .rename("quantity").reset_index())
            customer_units = (customer_periods.groupby(["sku", "customer"], sort=True)["quantity"].sum()
                              .reset_index())
    if cust is not None and customer_units is None:
        customer_units = pd.DataFrame({"sku": pd.Series(dtype=object), "customer": pd.Series(dtype=object),
                                       "quantity": pd.Series(dtype=float)})
        customer_periods = customer_units.assign(t=pd.Series(dtype=np.int64))[["sku", "customer", "t", "quantity"]]

    problems.sort(key=_line_of)  # report rows in file order; summaries ("... and N more") last
    listed = frozenset(sku[~empty].unique())
    flagged = frozenset(sku[~empty & ~ok].unique())
    hist = History(series=series, periods=periods, bucket=bucket, first=first, last=last, listed=listed,
                   flagged=flagged, unplanned=unplanned, customer_units=customer_units,
                   customer_periods=customer_periods)
    return hist, problems


def _csv_frame(path: Path, name: str, problems: list[Problem]) -> pd.DataFrame:
    """The history CSV as a frame of text cells (its rows are file lines 2, 3, ...)."""
    text = _decode(path, name, problems)
    if text is None:
        raise ScenarioError(problems)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ScenarioError(Problem(name, FIELD, "is empty (needs a header row: sku, period or date, quantity)")) from None
    except (pd.errors.ParserError, ValueError):
        bad = _ragged(text)
        if bad is not None:
            raise ScenarioError(Problem(name, bad.path, bad.rule)) from None
        raise ScenarioError(Problem(name, FIELD, "is not a readable CSV (a quoted field left open?)")) from None


def _workbook_frame(path: Path, problems: list[Problem]) -> tuple[pd.DataFrame, np.ndarray, str]:
    """The history workbook's first worksheet as a frame of text cells (scenarios.workbook: each cell
    as the text a CSV would hold), the sheet row of each record, and the name problems carry:
    "<file>, sheet '<name>'", so that `demand_history_csv[<row>]` names the sheet and its row."""
    try:
        sheet = read_sheet(path, path.name, "demand history workbook", MAX_HISTORY_BYTES)
    except ScenarioError as e:
        problems.extend(Problem(path.name, FIELD, f"cannot be read: {p.rule}") for p in e.problems)
        raise ScenarioError(problems) from None
    name = f"{path.name}, sheet {show(sheet.name)}"
    problems.extend(Problem(name, f"{FIELD}[{r}]", f"cell {column_letter(j)}{r} {UNSAVED_RULE}")
                    for r, j in sheet.unsaved)
    if not sheet.header:
        raise ScenarioError(problems + [Problem(name, FIELD, "is empty (needs a header row: sku, period or date, "
                                                "quantity)")])
    n = len(sheet.header)
    unsaved = {r for r, _ in sheet.unsaved}
    rows, line = [], []
    for r, cells in sheet.rows:
        extra = extra_cells(sheet, r, cells)
        if extra is not None:
            problems.append(Problem(name, f"{FIELD}[{r}]", "cell " + extra.path.rsplit("cell ", 1)[-1] + " "
                                    + extra.rule))
            continue
        if r in unsaved:
            continue  # named above; the rest of the sheet is still checked
        rows.append(cells[:n])
        line.append(r)
    df = pd.DataFrame(rows, columns=sheet.header, dtype=str) if rows else pd.DataFrame(columns=sheet.header, dtype=str)
    return df, np.asarray(line, dtype=np.int64), name


def _line_of(p: Problem) -> tuple[int, int]:
    m = re.match(rf"{FIELD}\[(\d+)\]", p.path)
    return (0, int(m.group(1))) if m else (1, 0)


def read_history(csv_path: Path, scenario: Scenario, file: str = "<scenario>") -> History:
    """Read and check the history CSV against the scenario's SKUs; one ScenarioError naming every
    problem (CSV rows by line number, header = line 1; a SKU without history by its YAML path in
    `file`, the scenario file's name). Cached per (path, modification time, size, SKU ids, period,
    whether the customer column is read)."""
    hist, problems = _read(Path(csv_path), scenario, file)
    if problems:
        raise ScenarioError(problems)
    return hist


def _read(path: Path, scenario: Scenario, file: str) -> tuple[History, list[Problem]]:
    known = frozenset(s.id for s in scenario.skus)
    ppy = float(scenario.horizon.periods_per_year)
    customers = tiers_from_history(scenario)
    try:
        st = path.stat()
        hist, problems = _cached_parse(str(path), st.st_mtime_ns, st.st_size, known, ppy, customers)
    except OSError:
        hist, problems = _parse(path, known, ppy, customers)  # reports the unreadable file
    problems = list(problems)
    name = path.name
    for i, s in enumerate(scenario.skus):
        if s.demand is not None:
            continue
        if s.id not in hist.listed:
            problems.append(Problem(file, f"skus[{i}].demand", f"missing, and {name} has no history for "
                                    f"SKU {show(s.id)} (give demand or add its rows)"))
        # a SKU whose rows are all 0 has no demand: it gets demand 0 (no stock), see apply_history
    return hist, problems


NO_DEMAND_REASON = "no demand in the history: no stock"
MAX_LISTED = 20  # unplanned SKUs named in the warning; then how many more


def no_demand(x: np.ndarray | None) -> bool:
    """Whether a SKU's history series has rows but no positive quantity (it gets demand 0)."""
    return x is not None and not (x > 0).any()


def history_warnings(scenario: Scenario) -> list[str]:
    """The warnings of the scenario's demand history, one line each: the SKUs in the history that the
    scenario does not plan (ignored), named once with their number of rows. Empty without history."""
    path = scenario.demand_history_csv
    if path is None:
        return []
    hist = read_history(Path(path), scenario)
    if not hist.unplanned:
        return []
    names = [f"{show(sid)} ({rows} row{'s' if rows != 1 else ''})" for sid, rows, _ in hist.unplanned[:MAX_LISTED]]
    more = f" and {len(hist.unplanned) - MAX_LISTED} more" if len(hist.unplanned) > MAX_LISTED else ""
    n = len(hist.unplanned)
    return [f"{Path(path).name}: {n} SKU{'s' if n != 1 else ''} in the history {'are' if n != 1 else 'is'} not "
            f"planned by the scenario and ignored: {', '.join(names)}{more}"]


@lru_cache(maxsize=8)
def _cached_parse(path: str, mtime_ns: int, size: int, known: frozenset, ppy: float, customers: bool = False):
    # Re-reading is deterministic; the cache saves parsing the same file for the loader, the run
    # pipeline and the report. A ScenarioError is not cached (lru_cache does not keep exceptions).
    # The caller must not change the History (its customer_units frame is shared).
    return _parse(Path(path), known, ppy, customers)


def history_method(scenario: Scenario, method: str | None = None) -> str:
    """The model-choice method: the argument, else the scenario's `demand_history_method` (a field
    proposed for format 1, see docs/demand-from-history.md), else "auto"."""
    return method or getattr(scenario, "demand_history_method", None) or "auto"


def apply_history(scenario: Scenario, csv_path: Path, file: str, method: str | None = None) -> Scenario:
    """The scenario with a demand model from history for every SKU that has no explicit `demand`
    (explicit ones are kept). `csv_path` is the resolved CSV path; the returned scenario's
    `demand_history_csv` is set to it so that demand_model_table can re-read it. `method`: "auto"
    (the rule of scenarios.demand_fit), "fit" (no empirical fallback) or "empirical"; None -> history_method.
    When the scenario's customer tiers give no share, every SKU without explicit `tier_shares` gets
    them from the history's customer column (scenarios.customer_tiers); problems of the CSV and of
    the tiers are reported together."""
    path = Path(csv_path)
    hist, problems = _read(path, scenario, file)
    # with bad rows, a SKU's units may be missing for that reason only: only the tiers' own problems then
    shares, tier_problems = tier_problems_and_shares(scenario, hist, path.name, file, partial=bool(problems))
    problems += tier_problems
    if problems:
        raise ScenarioError(problems)
    method = history_method(scenario, method)
    skus = tuple(
        s if s.demand is not None else s.model_copy(update={"demand": _model(hist.series[s.id], method)})
        for s in scenario.skus
    )
    # each tier's own model, fitted from the original SKUs (those whose demand the history gives)
    tier_models = tier_demand_from_history(scenario, hist, lambda x: _model(x, method))
    scenario = scenario.model_copy(update={"skus": skus, FIELD: str(csv_path)})
    return with_sku_field(with_sku_field(scenario, "tier_shares", shares), "tier_demand", tier_models)


def _model(x: np.ndarray, method: str):
    """The demand model of a history series: demand 0 (fixed) when it has no positive quantity (the
    optimiser then holds no stock), else the rule's model (scenarios.demand_fit)."""
    if no_demand(x):
        return Fixed(value=0)
    return fit_demand(x, method).model


TABLE_COLUMNS = (
    "sku", "demand_source", "demand_model", "demand_pattern", "demand_reason", "adi", "cv2", "mean", "variance",
    "dispersion", "zero_fraction", "history_periods", "demand_periods", "dispersion_p", "week_variance_ratio",
    "fit_test", "fit_stat", "fit_p", "model_mean", "model_variance",
)


def demand_model_table(
    scenario: Scenario, csv_path: Path | None = None, method: str | None = None
) -> pd.DataFrame | None:
    """One row per SKU: where its demand model came from (explicit | history), which model, the
    history's pattern and statistics per period (adi, cv2, mean, variance, dispersion = variance/mean,
    zero_fraction, week_variance_ratio), the fit statistics (dispersion_p, fit_test, fit_stat, fit_p), the model's own
    mean and variance, and the reason in words. None when the scenario has no demand history."""
    path = csv_path if csv_path is not None else scenario.demand_history_csv
    if path is None:
        return None
    hist = read_history(Path(path), scenario)
    method = history_method(scenario, method)
    rows = []
    for s in scenario.skus:
        x = hist.series.get(s.id)
        fit: DemandFit | None = None
        from_history = False
        if x is not None and (x > 0).any():
            fit = fit_demand(x, method)
            from_history = s.demand is None or s.demand == fit.model
            # a demand built from history by another method is still from history (say which)
            for other in ("auto", "fit", "empirical"):
                if not from_history and other != method:
                    alt = fit_demand(x, other)
                    if s.demand == alt.model:
                        fit, from_history = alt, True
        empty = no_demand(x) and (s.demand is None or s.demand == Fixed(value=0))
        if empty:  # rows, none positive: demand 0, no stock
            from_history = True
        model = fit.model if (from_history and s.demand is None and fit) else s.demand
        row = {
            "sku": s.id,
            "demand_source": "history" if from_history else "explicit",
            "demand_model": getattr(model, "dist", ""),
            "demand_pattern": fit.pattern if fit else "",
            "demand_reason": (fit.reason if (from_history and fit) else "explicit demand in the scenario"
                              + (f" (history: {fit.pattern})" if fit else "")),
            "model_mean": dist_mean(model) if model is not None else math.nan,
            "model_variance": dist_var(model) if model is not None else math.nan,
        }
        for col in ("adi", "cv2", "mean", "variance", "dispersion", "zero_fraction", "dispersion_p",
                    "week_variance_ratio", "fit_stat"):
            row[col] = getattr(fit, col) if fit else math.nan
        row["history_periods"] = fit.periods if fit else (hist.periods if x is not None else 0)
        row["demand_periods"] = fit.demand_periods if fit else 0
        row["fit_test"] = fit.fit_test if (fit and from_history) else ""
        row["fit_p"] = fit.fit_p if (fit and from_history) else math.nan
        if fit and not from_history:
            row["fit_stat"] = math.nan
        if empty:
            row.update(demand_model="fixed", demand_pattern="none", demand_reason=NO_DEMAND_REASON, model_mean=0.0,
                       model_variance=0.0, mean=0.0, variance=0.0, zero_fraction=1.0, fit_test="none")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
