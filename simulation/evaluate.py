"""`simulation.evaluate`: simulate candidate policies and return their metrics and costs (docs/outputs.md).

One row per input policy, in input order: the policy columns first (mode filled in when it was
left empty), then every metric and cost column, their 95 % half-widths and the extra columns
(`simulation.metrics.EVALUATION_COLUMNS`). Engines are looked up by name; both return the same raw
counters for the same draws.
"""

from __future__ import annotations

import importlib
import math
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd
from pydantic import ValidationError

from scenarios.schema import Policy, Scenario
from simulation.metrics import EVALUATION_COLUMNS, POLICY_COLUMNS, SUMMARY_COLUMNS, summarize
from simulation.policy_arrays import policy_arrays

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
    for col in POLICY_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    df = df[list(POLICY_COLUMNS)].astype({"mode": object})
    skus = {s.id for s in scenario.skus}
    modes = [m.name for m in scenario.transport]
    for i, row in enumerate(df.itertuples(index=False)):
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
        df.at[i, "mode"] = mode if mode is not None else modes[0]
        df.at[i, "R"] = int(R)
    return df


def evaluate_sku(scenario: Scenario, sku_id: str, policies: pd.DataFrame, engine: str, replications: int, seed: int) -> dict:
    """Simulate the (validated) policies of one SKU; return the summary columns (arrays per row)."""
    sku = scenario.skus[scenario.sku_index(sku_id)]
    arrays = policy_arrays(scenario, policies)
    counters = engine_function(engine)(scenario, sku, arrays, replications, seed)
    return summarize(counters, scenario, sku, modes=arrays)


def _evaluate_sku_args(args) -> dict:
    return evaluate_sku(*args)


def _pool_context():
    """Workers forked from a clean server process that has imported the engines once (safe with
    numba and with threads in the parent, and far cheaper than a spawn per worker); spawn where
    forkserver does not exist. Results never depend on the worker."""
    try:
        ctx = get_context("forkserver")
    except ValueError:
        return get_context("spawn")
    ctx.set_forkserver_preload(["simulation.evaluate", "simulation.simpy_model"])
    return ctx


def evaluate(
    scenario: Scenario,
    policies: pd.DataFrame,
    engine: str = "kernel",
    replications: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
) -> pd.DataFrame:
    """Simulate each candidate policy (columns sku, family, mode, s, S, Q, R, cap; NaN where unused)
    and return one row per input row, in input order: the policy columns, then every metric and cost
    (mean over replications, costs per period), their `_ci` 95 % half-widths and the extra columns
    (EVALUATION_COLUMNS). `replications` and `seed` default to the scenario's; `jobs > 1` simulates
    SKUs in a process pool with identical results."""
    engine_function(engine)  # unknown engine -> ValueError before any work
    replications = scenario.replications if replications is None else int(replications)
    seed = scenario.seed if seed is None else int(seed)
    if replications < 1:
        raise ValueError(f"replications {replications} is not >= 1")
    df = validate_policies(scenario, policies)
    if len(df) == 0:
        return pd.DataFrame({name: pd.Series(dtype=object if name in ("sku", "family", "mode") else float) for name in EVALUATION_COLUMNS})
    groups = [(sku_id, idx.to_numpy()) for sku_id, idx in df.groupby("sku", sort=False).groups.items()]
    tasks = [(scenario, sku_id, df.loc[idx], engine, replications, seed) for sku_id, idx in groups]
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=_pool_context()) as pool:
            results = list(pool.map(_evaluate_sku_args, tasks))
    else:
        results = [evaluate_sku(*t) for t in tasks]
    columns = {name: np.empty(len(df), dtype=np.float64) for name in SUMMARY_COLUMNS}
    for (_, idx), summary in zip(groups, results):
        for name in SUMMARY_COLUMNS:
            columns[name][idx] = summary[name]
    out = pd.concat([df, pd.DataFrame(columns)], axis=1)
    out["replications"] = out["replications"].astype(np.int64)
    return out[list(EVALUATION_COLUMNS)]
