"""`tradeoff compare`: several scenarios (or one scenario and its variants) run, or reused, and put
side by side in one table (compare.csv) and one page (compare.html).

A finished run is reused when tradeoff.results_io.finished says so (the definition batch resumes
by): `DIR/<folder>/summary.json` carries the same `scenario_hash` as the scenario loaded now
(scenarios.content_hash; same world, same seed, so the same numbers) and the same engine, and every
file of the folder's manifest has the size and sha256 recorded when it was written. Anything else
(another scenario, a damaged or incomplete result) is run again. Its CSV files are read back with
tradeoff.csv_safe.read_csv, which undoes the formula neutralisation of the writer, so a reused run's
SKU ids are the scenario's. Money in the table is per year (per-period money times
horizon.periods_per_year).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradeoff.report.format import BUCKETS, is_number
from tradeoff.result import Result

log = logging.getLogger(__name__)

AGGREGATE_METRICS = ["fill_rate", "cycle_service_level", "order_fill_rate", "on_time_rate", "stockout_frequency",
                     "order_cycle_mean", "order_cycle_sd", "backorder_rate", "substitution_rate", "lost_sales_rate",
                     "customers_lost", "avg_on_hand", "avg_in_transit"]


@dataclass(frozen=True)
class Job:
    """One scenario of a comparison: the file and the variants applied (None: the base)."""

    file: Path
    variants: str | None = None


def jobs_for(files: list[Path], variant: str | None) -> list[Job]:
    """The runs a comparison needs: each file as given (with `variant` applied when it names
    variants), or, with `variant == "all"`, each file's base and then each of its variants alone."""
    if variant is None or variant.strip() == "":
        return [Job(Path(f)) for f in files]
    if variant.strip() != "all":
        return [Job(Path(f), variant) for f in files]
    import scenarios

    out = []
    for f in files:
        out.append(Job(Path(f)))
        out += [Job(Path(f), name) for name in scenarios.load(f).variants]
    return out


def load_finished(folder: Path, scenario, scenario_hash: str, engine: str | None = None) -> Result | None:
    """The finished run in `folder` as a Result when tradeoff.results_io.finished accepts it (this
    scenario's hash, and `engine` when given; every file intact); None otherwise. Its CSV files are
    read back as written (tradeoff.csv_safe.read_csv: ids kept as text, neutralised cells restored).
    candidates.parquet is not read (a comparison does not need it): `candidates` is empty."""
    return _load(Path(folder), scenario, scenario_hash, engine)[0]


def _load(folder: Path, scenario, scenario_hash: str, engine: str | None) -> tuple[Result | None, str]:
    """(the finished run or None, why it is not reused: "" when it is, or when there is none)."""
    from tradeoff.csv_safe import read_csv
    from tradeoff.results_io import finished

    check = finished(folder, scenario_hash, engine)
    if not check:
        return None, check.rerun_message
    try:
        plan = read_csv(folder / "plan.csv")
        frontier = read_csv(folder / "frontier.csv")
        audit = read_csv(folder / "audit.csv") if (folder / "audit.csv").exists() else None
    except (OSError, ValueError) as exc:
        return None, f"previous result unreadable ({exc}): rerun"
    for table, column in ((frontier, "cost_optimal"), (audit, "has_current_policy")):
        if table is not None and column in table.columns and table[column].dtype != bool:
            table[column] = table[column].map(lambda v: str(v).strip().lower() in ("true", "1"))
    return Result(scenario=scenario, plan=plan, frontier=frontier, candidates=pd.DataFrame(), summary=check.summary,
                  audit=audit, out_dir=folder, extras={"folder": folder.name, "reused": True}), ""


def run_or_reuse(job: Job, out: Path, engine: str = "kernel", jobs: int = 1) -> Result:
    """The result of one job: reused from `out/<folder>/` when it is finished (results_io.finished:
    same scenario hash and engine, files intact), else run (and written there); a damaged previous
    result is logged and noted in `extras["rerun_reason"]`. Raises ScenarioError / InfeasibleError
    like `tradeoff run`."""
    import scenarios
    from tradeoff.pipeline import load_scenario, result_folder_name, run

    scenario = load_scenario(str(job.file), variants=job.variants)
    folder = result_folder_name(scenario, job.variants)
    scenario_hash = scenarios.content_hash(scenario)
    found, why = _load(Path(out) / folder, scenario, scenario_hash, engine)
    if found is not None:
        return found
    if why:
        log.warning("%s: %s", folder, why)
    result = run(str(job.file), out=out, variants=job.variants, engine=engine, jobs=jobs)
    # Compare what was written, as a later comparison reusing it will: the CSV files hold numbers to
    # 10 significant digits, so a fresh run and a reused one give the same compare.csv bytes.
    written, _ = _load(Path(out) / folder, scenario, scenario_hash, engine)
    if written is not None:
        written.extras = {**result.extras, **written.extras}
        result = written
    result.extras.setdefault("folder", folder)
    result.extras["reused"] = False
    if why:
        result.extras["rerun_reason"] = why
    return result


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def compare_table(results: list[Result]) -> pd.DataFrame:
    """One row per run, indexed by its folder name: currency, service metric, SKUs, target, achieved
    (out of sample), cost-optimal level and cost, cost per year in total and by bucket (recommended
    plan, out of sample), aggregate metrics, the implied value of a lost unit and the demand-weighted
    margin, the audit's saving per year, the scenario hash. Money per year."""
    from tradeoff.report.headline import headline
    from tradeoff.report.page import label_of

    rows = []
    for r in results:
        s = r.summary or {}
        ppy = float(r.scenario.horizon.periods_per_year)
        h = headline(r)
        row: dict[str, Any] = {"scenario": label_of(r), "currency": r.scenario.currency, "metric": h.metric,
                               "skus": len(r.plan) if r.plan is not None else len(r.scenario.skus),
                               "periods_per_year": ppy, "target": h.target, "achieved": h.achieved,
                               "cost_optimal_level": h.optimal_level, "cost_optimal_cost_per_year": h.optimal_cost}
        totals = _get(s, "totals") or {}
        if not totals and r.plan is not None:
            totals = {b: float(r.plan[b].sum()) for b in BUCKETS + ["cost_total"] if b in r.plan.columns}
        row["cost_per_year"] = float(totals["cost_total"]) * ppy if is_number(totals.get("cost_total")) else np.nan
        for b in BUCKETS:
            row[f"{b}_per_year"] = float(totals[b]) * ppy if is_number(totals.get(b)) else np.nan
        if is_number(totals.get("cost_total")) and is_number(totals.get("cost_shortage")):
            row["cost_logistics_per_year"] = (float(totals["cost_total"]) - float(totals["cost_shortage"])) * ppy
        metrics = _get(s, "metrics") or {}
        for m in AGGREGATE_METRICS:
            row[m] = float(metrics[m]) if is_number(metrics.get(m)) else np.nan
        row["implied_shortage_cost"] = h.implied_shortage_cost if h.implied_shortage_cost is not None else np.nan
        row["margin"] = h.margin
        saving = _get(s, "audit", "saving")
        row["audit_saving_per_year"] = float(saving) * ppy if is_number(saving) else np.nan
        row["scenario_hash"] = _get(s, "scenario_hash")
        rows.append(row)
    return pd.DataFrame(rows).set_index("scenario")


def compare(files: list[Path], out: Path, variant: str | None = None, engine: str = "kernel", jobs: int = 1,
            progress=None) -> tuple[list[Result], Path, Path]:
    """Run (or reuse) every job of the comparison and write `out/compare.csv` (compare_table) and
    `out/compare.html` (the comparison page), each atomically. Returns (results, csv path, html path).
    `progress(label, done, total)` is told after each job when given."""
    from tradeoff.report import render_compare
    from tradeoff.results_io import csv_text, write_file_atomic

    todo = jobs_for(files, variant)
    results = []
    for k, job in enumerate(todo, start=1):
        results.append(run_or_reuse(job, out, engine=engine, jobs=jobs))
        if progress is not None:
            progress(str(job.file), k, len(todo))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = compare_table(results)
    csv_path = write_file_atomic(out / "compare.csv", csv_text(table.reset_index()))
    html_path = write_file_atomic(out / "compare.html", render_compare(results))
    return results, csv_path, html_path
