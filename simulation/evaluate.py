"""`simulation.evaluate`: simulate candidate policies and return their metrics and costs (docs/outputs.md).

One row per input policy, in input order: the policy columns first (mode filled in when it was
left empty), then every metric and cost column, their 95 % half-widths and the extra columns
(`simulation.metrics.EVALUATION_COLUMNS`). Engines are looked up by name; both return the same raw
counters for the same draws.

Where the SKUs are simulated is the caller's choice: pass an executor (any object with
`map(fn, items)` and, optionally, `share(obj)`, such as `tradeoff.executors.get_executor(...)`) and
the SKUs go to its workers in a few chunks balanced by work, the scenario shared once
(`executor.share`) rather than pickled with every chunk; without one they run in this process. The
simulation owns no process pool of its own: the executors are the one pool abstraction, and they
live in `tradeoff`, above this package. Each SKU's numbers depend only on the scenario, its
candidates, the replications and the seed (its streams are keyed by the SKU), so the results are
identical whatever the executor, its workers and the chunking.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from scenarios.schema import Policy, Scenario
from simulation.metrics import POLICY_COLUMNS, evaluation_columns, summarize_many, summary_columns
from simulation.policy_arrays import PolicyArrays, policy_arrays

ENGINES = {"simpy": "simulation.simpy_model", "kernel": "simulation.kernel"}
_PARAMETERS = ("s", "S", "Q", "cap")


def engine_function(engine: str):
    """The `simulate_sku` function of the engine called `engine` (imported only when asked for)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {sorted(ENGINES)}")
    return importlib.import_module(ENGINES[engine]).simulate_sku


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or bool(pd.isna(x))


def validate_policies(scenario: Scenario, policies: pd.DataFrame) -> pd.DataFrame:
    """Check every row (known SKU, family and mode; the parameters its family needs) and return a
    copy with the mode filled in (first transport mode when empty) and R = 0 when empty.
    Raises ValueError naming the row."""
    absent = [c for c in ("sku", "family") if c not in policies.columns]
    if absent:
        raise ValueError(f"policies lacks column(s) {absent}")  # the other columns may be left out (NaN)
    df = policies.reset_index(drop=True).copy()
    critical = df["critical_level"] if "critical_level" in df.columns else None
    for col in POLICY_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    df = df[list(POLICY_COLUMNS)]
    if not _fill_if_valid(scenario, df):  # it writes mode as objects itself
        df = df.astype({"mode": object})
        _validate_by_row(scenario, df)  # raises on the first bad row (or fills a table the fast check doubted)
    df["critical_level"] = _critical_levels(critical) if critical is not None else 0.0
    return df


def _critical_levels(column: pd.Series) -> np.ndarray:
    """A policies table's critical_level column as floats (missing = 0); ValueError naming the first
    row that is not a non-negative number of units."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    given = column.notna().to_numpy()
    bad = np.flatnonzero(given & ~(np.isfinite(values) & (values >= 0) & (values < 2.0**62)))
    if bad.size:
        raise ValueError(f"policies row {int(bad[0])}: critical_level {column.iloc[int(bad[0])]!r} is not a "
                         "non-negative number of units")
    return np.where(given, values, 0.0)


def _check_row(i: int, row, skus: set, modes: list[str]) -> tuple[object, int]:
    """(mode given or None, whole R) of a valid row; raises ValueError naming row i otherwise."""
    where = f"policies row {i} ({row.sku!r}, {row.family!r})"
    if row.sku not in skus:
        raise ValueError(f"{where}: unknown sku {row.sku!r}")
    mode = None if _missing(row.mode) else row.mode
    if mode is not None and mode not in modes:
        raise ValueError(f"{where}: unknown mode {mode!r}; the scenario's modes are {modes}")
    values = {p: (None if _missing(getattr(row, p)) else float(getattr(row, p))) for p in _PARAMETERS}
    R = 0 if _missing(row.R) else float(row.R)
    if R != int(R):
        raise ValueError(f"{where}: R {R} is not a whole number of periods")
    try:
        Policy(family=row.family, mode=mode, R=int(R), **values)
    except ValidationError as e:
        rules = "; ".join(err["msg"].removeprefix("Value error, ") for err in e.errors())
        raise ValueError(f"{where}: {rules}") from None
    if row.family == "rQ" and values["Q"] < 0.5:
        raise ValueError(f"{where}: Q {values['Q']} rounds to 0 whole units (needs Q >= 0.5)")
    return mode, int(R)


def _validate_by_row(scenario: Scenario, df: pd.DataFrame) -> None:
    """The row-by-row check: raises on the first bad row; else fills mode and R in place."""
    skus = {s.id for s in scenario.skus}
    modes = [m.name for m in scenario.transport]
    for i, row in enumerate(df.itertuples(index=False)):
        mode, R = _check_row(i, row, skus, modes)
        df.at[i, "mode"] = mode if mode is not None else modes[0]
        df.at[i, "R"] = R


def _float_column(column: pd.Series) -> np.ndarray | None:
    """A plain numeric column as float64 (NaN where missing); None for anything else."""
    if (not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_complex_dtype(column) or pd.api.types.is_extension_array_dtype(column)):
        return None
    return column.to_numpy(dtype=np.float64)


def _distinct(column: pd.Series) -> tuple[np.ndarray, list]:
    """pd.factorize of a column: codes per row (-1: missing) and the distinct values as a list. The
    checks below ask about the few distinct names, not about every row (the names are often
    pandas' Arrow-backed strings: no conversion of each row to a Python object)."""
    codes, distinct = pd.factorize(column)
    return codes, distinct.tolist()


def _objects(values: list, codes: np.ndarray) -> np.ndarray:
    """The object array values[codes] (None where a code is -1), made item by item from the list
    (np.array of a list would unpack values that are sequences)."""
    table = np.empty(len(values) + 1, dtype=object)
    for k, value in enumerate(values):
        table[k] = value
    return table[codes]


def _fill_if_valid(scenario: Scenario, df: pd.DataFrame) -> bool:
    """The same checks as `_validate_by_row` on whole columns, the Policy rules run once per distinct
    policy: when every row passes, fill mode (as objects) and R in place (the values and dtypes the
    row-by-row path writes) and return True; otherwise (or for unusual column types) change nothing
    and return False, so the row-by-row path names the first bad row. Name checks are made on each
    column's distinct values (_distinct): a row passes exactly when its value does."""
    R_dtype = df["R"].dtype
    if R_dtype not in (np.dtype(np.float64), np.dtype(np.int64)):
        return False
    values = {p: _float_column(df[p]) for p in (*_PARAMETERS, "R")}
    if any(v is None for v in values.values()):
        return False
    skus = {s.id for s in scenario.skus}
    modes = [m.name for m in scenario.transport]
    sku_codes, sku_names = _distinct(df["sku"])
    mode_codes, mode_names = _distinct(df["mode"])
    if (sku_codes < 0).any() or not all(x in skus for x in sku_names) or not all(m in modes for m in mode_names):
        return False
    mode_missing = mode_codes < 0
    R = np.where(np.isnan(values["R"]), 0.0, values["R"])
    if not ((np.abs(R) < 2.0**62).all() and (R == np.floor(R)).all()):  # also refuses inf
        return False
    R_whole = R.astype(np.int64)
    mode_given = _objects(mode_names, mode_codes)  # None where missing (never read there)
    if _rules_hold(df["family"], mode_names, values, R_whole):
        return _fill(df, mode_given, mode_missing, modes, R_whole, R_dtype)
    columns = [values[p].tolist() for p in _PARAMETERS]
    seen: set = set()  # the Policy rules depend only on these, so each distinct policy is checked once
    try:
        for family, mode, missing, *params, r in zip(df["family"].tolist(), mode_given, mode_missing, *columns, R_whole.tolist()):
            given = [None if math.isnan(x) else x for x in params]  # NaN keys would never compare equal
            key = (family, None if missing else mode, *given, r)
            if key in seen:
                continue
            seen.add(key)
            Policy(family=family, mode=None if missing else mode, R=r, **dict(zip(_PARAMETERS, given)))
            if family == "rQ" and given[_PARAMETERS.index("Q")] < 0.5:
                return False
    except (ValidationError, TypeError):  # TypeError: an unhashable value; the row-by-row path names it
        return False
    return _fill(df, mode_given, mode_missing, modes, R_whole, R_dtype)


def _fill(df: pd.DataFrame, mode_given: np.ndarray, mode_missing: np.ndarray, modes: list[str],
          R_whole: np.ndarray, R_dtype) -> bool:
    filled = mode_given.copy()
    filled[mode_missing] = modes[0]
    df["mode"] = pd.Series(filled, index=df.index, dtype=object)
    df["R"] = R_whole.astype(R_dtype)
    return True


_NEEDS = {"base_stock": ("S",), "sS": ("s", "S"), "rQ": ("s", "Q"), "RS": ("S",), "RsS": ("s", "S"),
          "capped_base_stock": ("S", "cap")}


def _rules_hold(family: pd.Series, mode_names: list, values: dict[str, np.ndarray], R_whole: np.ndarray) -> bool:
    """True only when every row certainly passes the Policy rules (scenarios.schema.Policy: a known
    family, mode text or none, finite parameters, Q and cap > 0, R >= 0, the parameters its family
    needs, R >= 1 for RS/RsS, S > s for sS/RsS, S >= 0) and the rQ rule Q >= 0.5, checked on whole
    columns at once. False means "not sure": the caller then runs the Policy model per distinct
    policy, which decides (and which this never contradicts, since it only says True when each of
    those rules holds)."""
    try:
        codes, names = _distinct(family)
    except TypeError:  # an unhashable value
        return False
    if (codes < 0).any() or not all(type(f) is str for f in names + mode_names):
        return False
    given = {p: ~np.isnan(values[p]) for p in _PARAMETERS}
    with np.errstate(invalid="ignore"):
        for p in _PARAMETERS:
            if not np.isfinite(values[p][given[p]]).all():
                return False
        if not ((values["Q"][given["Q"]] > 0).all() and (values["cap"][given["cap"]] > 0).all()
                and (values["S"][given["S"]] >= 0).all() and (R_whole >= 0).all()):
            return False
        known = np.zeros(len(codes), dtype=bool)
        for name, needs in _NEEDS.items():
            if name not in names:
                continue
            rows = codes == names.index(name)
            known |= rows
            if not all(given[p][rows].all() for p in needs):
                return False
            if name in ("RS", "RsS") and not (R_whole[rows] >= 1).all():
                return False
            if name in ("sS", "RsS") and not (values["S"][rows] > values["s"][rows]).all():
                return False
            if name == "rQ" and not (values["Q"][rows] >= 0.5).all():
                return False
        return bool(known.all())


CHUNKS_PER_WORKER = 4  # several chunks per worker so that uneven SKUs still balance


def chunks(items: list, work: list[float], n_chunks: int) -> list[list]:
    """Split items (in order) into at most n_chunks consecutive runs of about equal total work."""
    total = float(sum(work)) or 1.0
    out, current, acc = [], [], 0.0
    for item, w in zip(items, work):
        current.append(item)
        acc += w
        if acc >= total * (len(out) + 1) / n_chunks and len(out) < n_chunks - 1:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _run_part(task: tuple) -> list:
    """An executor task: `[fn(scenario, *item) for item in part]` (the scenario arrives shared)."""
    scenario, fn, part = task
    return [fn(scenario, *item) for item in part]


def map_with_scenario(scenario: Scenario, fn: Callable, items: Sequence[tuple], executor: Any = None,
                      work: Sequence[float] | None = None) -> list:
    """`[fn(scenario, *item) for item in items]`, in order. With an `executor` (an object with
    `map(fn, items)`, optionally `share(obj)`), the items run on its workers in about
    CHUNKS_PER_WORKER x `executor.workers` chunks balanced by `work` (default: equal), the scenario
    shared once; without one, in this process. `fn` must be a module-level function."""
    items = list(items)
    workers = int(getattr(executor, "workers", 1) or 1)
    if executor is None or len(items) <= 1 or getattr(executor, "in_process", False):
        return [fn(scenario, *item) for item in items]
    share = getattr(executor, "share", None)
    handle = share(scenario) if share is not None else scenario
    parts = chunks(items, list(work) if work is not None else [1.0] * len(items),
                   min(len(items), CHUNKS_PER_WORKER * workers))
    return [result for part in executor.map(_run_part, [(handle, fn, part) for part in parts]) for result in part]


def simulate_one(scenario: Scenario, engine: str, sku_id: str, arrays: PolicyArrays, replications: int, seed: int):
    """Raw counters of one SKU by the named engine (a worker task of simulate_skus)."""
    return engine_function(engine)(scenario, scenario.skus[scenario.sku_index(sku_id)], arrays, replications, seed)


def simulate_skus(scenario: Scenario, arrays_by_sku: dict[str, PolicyArrays], replications: int, seed: int,
                  engine: str = "kernel", executor: Any = None) -> dict[str, np.ndarray]:
    """Raw counters float64[candidates, replications, N_COUNTERS] per SKU id, for the candidates
    `arrays_by_sku[sku_id]` (no metrics, no costs); `executor` spreads the SKUs over its workers."""
    engine_function(engine)  # unknown engine -> ValueError before any work
    items = [(engine, sku_id, arrays, replications, seed) for sku_id, arrays in arrays_by_sku.items()]
    work = [len(a) * replications + 1 for a in arrays_by_sku.values()]  # +1: the per-SKU stream cost
    return dict(zip(arrays_by_sku, map_with_scenario(scenario, simulate_one, items, executor, work)))


SUMMARY_BATCH_ROWS = 4096  # candidates summarised at once: bounds the counters held for a batch


def _evaluate_group(scenario: Scenario, group: list[tuple[int, PolicyArrays]], engine: str, replications: int, seed: int,
                    streams: Any = None) -> dict:
    """Simulate each (SKU position in scenario.skus, encoded candidates) of `group`; the summary
    columns of all their rows one after the other: the counters are summarised a few thousand candidates at a time
    (metrics.summarize_many, the same numbers as per SKU), not SKU by SKU. A pool task."""
    simulate = engine_function(engine)
    extra = {"streams": streams} if streams is not None and engine == "kernel" else {}
    pending: list[tuple] = []
    rows = 0
    pieces: list[dict] = []
    for position, arrays in group:
        sku = scenario.skus[position]
        pending.append((simulate(scenario, sku, arrays, replications, seed, **extra), sku, arrays))
        rows += len(arrays)
        if rows >= SUMMARY_BATCH_ROWS:
            pieces.append(summarize_many(pending, scenario))
            pending, rows = [], 0
    if pending:
        pieces.append(summarize_many(pending, scenario))
    if len(pieces) == 1:
        return pieces[0]
    return {name: np.concatenate([piece[name] for piece in pieces]) for name in summary_columns(scenario)}


def evaluate(
    scenario: Scenario,
    policies: pd.DataFrame,
    engine: str = "kernel",
    replications: int | None = None,
    seed: int | None = None,
    executor: Any = None,
    streams: Any = None,
) -> pd.DataFrame:
    """Simulate each candidate policy (columns sku, family, mode, s, S, Q, R, cap; NaN where unused)
    and return one row per input row, in input order: the policy columns, then every metric and cost
    (mean over replications, costs per period), their `_ci` 95 % half-widths and the extra columns
    (EVALUATION_COLUMNS). `replications` and `seed` default to the scenario's; `executor` (e.g.
    `tradeoff.executors.get_executor("local", jobs=2)`, used, not closed) simulates the SKUs on its
    workers with identical results; without one they run in this process. `streams`: a
    simulation.kernel_streams.StreamCache (kernel engine, in this process only) that keeps each SKU's
    streams for its next call: the same numbers, drawn once."""
    engine_function(engine)  # unknown engine -> ValueError before any work
    replications = scenario.replications if replications is None else int(replications)
    seed = scenario.seed if seed is None else int(seed)
    if replications < 1:
        raise ValueError(f"replications {replications} is not >= 1")
    df = validate_policies(scenario, policies)
    if len(df) == 0:
        return pd.DataFrame({name: pd.Series(dtype=object if name in ("sku", "family", "mode") else float)
                             for name in evaluation_columns(scenario)})
    # Encode the whole table once; each SKU's task carries only its arrays, and the scenario goes
    # to each worker once (executor.share), not with every SKU.
    arrays = policy_arrays(scenario, df)
    groups = list(df.groupby("sku", sort=False).indices.items())  # (sku id, row positions)
    position: dict[str, int] = {}  # as scenario.sku_index (the first SKU of that id), without a scan per SKU
    for k, sku in enumerate(scenario.skus):
        position.setdefault(sku.id, k)
    items = [(position[sku_id], arrays.take(rows)) for sku_id, rows in groups]
    work = [len(rows) * replications + 1 for _, rows in groups]  # +1: the per-SKU stream cost
    # SKUs go in runs (one per task, balanced by work as map_with_scenario would split them), so that
    # each task summarises its SKUs' counters in batches; the numbers do not depend on the runs.
    if streams is not None:
        if executor is not None and not getattr(executor, "in_process", False):
            raise ValueError("a StreamCache serves this process only: pass no executor with it")
        runs = [list(range(len(items)))]
        results = [_evaluate_group(scenario, [items[k] for k in runs[0]], engine, replications, seed, streams)]
    elif executor is None or len(items) <= 1 or getattr(executor, "in_process", False):
        runs = [list(range(len(items)))]
    else:
        workers = int(getattr(executor, "workers", 1) or 1)
        runs = chunks(list(range(len(items))), work, min(len(items), CHUNKS_PER_WORKER * workers))
    if streams is None:
        tasks = [([items[k] for k in run], engine, replications, seed) for run in runs]
        results = map_with_scenario(scenario, _evaluate_group, tasks, executor, [sum(work[k] for k in run) for run in runs])
    order = np.concatenate([rows for _, rows in groups])
    columns = {}
    for name in summary_columns(scenario):
        column = np.empty(len(df), dtype=np.float64)
        column[order] = np.concatenate([summary[name] for summary in results])
        columns[name] = column
    out = pd.concat([df, pd.DataFrame(columns)], axis=1)
    out["replications"] = out["replications"].astype(np.int64)
    return out[list(evaluation_columns(scenario))]
