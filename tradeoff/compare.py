"""`tradeoff compare`: several scenarios (or one scenario and its variants) run, or reused, and put
side by side in one table (compare.csv) and one page (compare.html).

A finished run is reused when tradeoff.results_io.finished says so (the definition batch resumes
by): `DIR/<folder>/summary.json` carries the same `scenario_hash` as the scenario loaded now
(scenarios.content_hash; same world, same seed, so the same numbers) and the same engine, and every
file of the folder's manifest has the size and sha256 recorded when it was written. Anything else
(another scenario, a damaged or incomplete result) is run again. It is read back as tradeoff.read
reads a folder (tradeoff.result.from_finished): its CSV files with tradeoff.csv_safe.read_csv, which
undoes the formula neutralisation of the writer, so a reused run's SKU ids are the scenario's. Money in the table is per year (per-period money times
horizon.periods_per_year). The table itself is built by tradeoff.comparison.compare_table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tradeoff.comparison import AGGREGATE_METRICS, compare_table
from tradeoff.result import Result

__all__ = ["AGGREGATE_METRICS", "Job", "compare", "compare_table", "jobs_for", "load_finished", "run_or_reuse"]

log = logging.getLogger(__name__)


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
    from tradeoff.result import ResultUnreadable, from_finished
    from tradeoff.results_io import finished

    check = finished(folder, scenario_hash, engine)
    if not check:
        return None, check.rerun_message
    try:
        found = from_finished(folder, check.summary, scenario, candidates=False)
    except ResultUnreadable as exc:
        return None, f"previous result unreadable ({exc.reason}): rerun"
    found.extras["reused"] = True
    return found, ""


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
    if found is not None and found.infeasible:  # a finished result with no plan: as a fresh run would
        from optimizer import InfeasibleError

        s = found.summary
        exc = InfeasibleError(str(s.get("rule")), s.get("best_achievable") if s.get("best_achievable") is not None
                              else float("nan"), s.get("message"))
        exc.result = found
        raise exc
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
