"""The result of one run: the tables of docs/outputs.md plus the scenario and summary they came from,
and `read(folder)`, which gives the same Result back from a finished result folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scenarios.errors import Problem, ScenarioError

if TYPE_CHECKING:
    from scenarios.schema import Scenario
    from tradeoff.verify import RuleCheck


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


@dataclass(repr=False, init=False)
class Result:
    """Everything `tradeoff run` produces.

    plan: one row per SKU (plan.csv columns, out-of-sample figures, money per period); None when no
    plan meets the rules (summary["status"] "infeasible": `infeasible` is True, `rules_missed` names
    the rule, summary["best_achievable"] its best level; frontier holds what can be met);
    frontier: one row per service level (frontier.csv columns);
    candidates: every candidate simulated with its metrics and costs (candidates.parquet), read from
    its files the first time it is asked for (a run never holds it in memory; empty when there is
    none); `candidates_path` is where it lies (a parquet file or a folder of parts), or None;
    audit: current vs recommended per SKU (audit.csv columns) or None when not audited;
    summary: the content of summary.json (totals, aggregated metrics, solver status, timings,
    scenario_hash, seed, versions); out_dir: the folder the files were written to (or read from),
    or None; scenario: the validated scenario, or None for a result read back without it (see read).

    The summary's figures are also attributes: `rules` (each service rule and limit checked out of
    sample), `rules_missed`, `timings` (seconds per stage), `status` (the solver's), `cost_per_period`
    and `cost_per_year`, `service_metric`, `service_target`, `service_achieved`, `scenario_hash`.
    """

    scenario: Scenario | None
    plan: pd.DataFrame
    frontier: pd.DataFrame
    summary: dict[str, Any]
    audit: pd.DataFrame | None = None
    out_dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    candidates_path: Path | None = None

    def __init__(self, scenario: Scenario | None, plan: pd.DataFrame, frontier: pd.DataFrame,
                 candidates: pd.DataFrame | str | Path | None, summary: dict[str, Any],
                 audit: pd.DataFrame | None = None, out_dir: Path | None = None,
                 extras: dict[str, Any] | None = None):
        """`candidates`: the table, or the path of its parquet file or folder of parts (read when asked
        for), or None (empty)."""
        self.scenario, self.plan, self.frontier, self.summary = scenario, plan, frontier, summary
        self.audit, self.out_dir, self.extras = audit, out_dir, dict(extras or {})
        self._candidates = candidates if isinstance(candidates, pd.DataFrame) else None
        self.candidates_path = Path(candidates) if isinstance(candidates, str | Path) else None

    @property
    def tiers(self) -> pd.DataFrame | None:
        """The plan per customer tier (tiers.csv: sku, tier, simulation.metrics.TIER_METRICS; money
        per period), or None when the scenario has no tiers (docs/tiers.md)."""
        return self.extras.get("tiers")

    @property
    def candidates(self) -> pd.DataFrame:
        """Every candidate simulated (candidates.parquet), read from candidates_path on first use."""
        if self._candidates is None:
            path = self.candidates_path
            self._candidates = pd.read_parquet(path) if path is not None and path.exists() else pd.DataFrame()
        return self._candidates

    # ------------------------------------------------------------------ the summary as attributes
    @property
    def scenario_name(self) -> str:
        """The scenario's name (from the scenario, else as recorded in summary.json)."""
        if self.scenario is not None:
            return self.scenario.name
        return str(_get(self.summary, "scenario", "name") or "")

    @property
    def scenario_hash(self) -> str | None:
        """scenarios.content_hash of the scenario the run solved, as recorded in summary.json."""
        return _get(self.summary, "scenario_hash")

    @property
    def skus(self) -> int:
        """The number of SKUs planned (rows of plan.csv)."""
        return int(len(self.plan)) if self.plan is not None else int(_get(self.summary, "skus") or 0)

    @property
    def rules(self) -> list[RuleCheck]:
        """Each service rule and limit checked on the out-of-sample figures (tradeoff.verify.RuleCheck:
        rule, metric, required, achieved, met, kind), from summary.json's service.rules."""
        from tradeoff.verify import RuleCheck

        return [RuleCheck(**row) for row in (_get(self.summary, "service", "rules") or [])]

    @property
    def infeasible(self) -> bool:
        """True when no plan meets the rules (summary.json status "infeasible"; plan is None)."""
        return _get(self.summary, "status") == "infeasible"

    @property
    def rules_missed(self) -> list[str]:
        """The rules (YAML paths) the plan misses out of sample; [] when every rule is met."""
        return list(_get(self.summary, "service", "rules_missed") or [])

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage of the run (load, select, frontier, verify, ...)."""
        return dict(_get(self.summary, "timings") or {})

    @property
    def status(self) -> str | None:
        """The solver's status for the recommended plan (optimal, time_limit, ...)."""
        status = _get(self.summary, "solver", "status")
        return None if status is None else str(status)

    @property
    def service_metric(self) -> str | None:
        return _get(self.summary, "service", "metric")

    @property
    def service_target(self) -> float | None:
        """The aggregate service target asked for (None: no target, the cost-optimal plan)."""
        return _get(self.summary, "service", "target")

    @property
    def service_achieved(self) -> float | None:
        """The aggregate service the plan achieves out of sample (demand-weighted)."""
        return _get(self.summary, "service", "achieved")

    @property
    def cost_per_period(self) -> float | None:
        """Total cost per period of the plan, all six buckets, out of sample, in the scenario's currency."""
        return _get(self.summary, "totals", "cost_total")

    @property
    def cost_per_year(self) -> float | None:
        """cost_per_period times horizon.periods_per_year (None without the scenario)."""
        if self.cost_per_period is None or self.scenario is None:
            return None
        return float(self.cost_per_period) * float(self.scenario.horizon.periods_per_year)

    def __repr__(self) -> str:
        currency = self.scenario.currency if self.scenario is not None else _get(self.summary, "scenario", "currency") or ""
        if self.cost_per_year is not None:
            cost = f"cost per year {self.cost_per_year:,.2f} {currency}".rstrip()
        elif self.cost_per_period is not None:
            cost = f"cost per period {float(self.cost_per_period):,.2f} {currency}".rstrip()
        else:
            cost = "cost unknown"

        def pct(x: Any) -> str:
            return "–" if x is None else f"{float(x):.2%}"

        target = pct(self.service_target) if self.service_target is not None else "none (cost-optimal)"
        if self.infeasible:
            best = _get(self.summary, "best_achievable")
            best = "–" if best is None else f"{float(best):.6g}"
            return (f"Result {self.scenario_name!r}{' in ' + str(self.out_dir) if self.out_dir is not None else ''}\n"
                    f"  infeasible: {_get(self.summary, 'rule')} cannot be met (best achievable {best}); no plan\n"
                    f"  {self.service_metric or 'service'}: target {target}\n"
                    f"  frontier: {len(self.frontier) if self.frontier is not None else 0} levels that can be met")
        missed = ", ".join(self.rules_missed) or "none"
        where = f" in {self.out_dir}" if self.out_dir is not None else ""
        return (f"Result {self.scenario_name!r}{where}\n"
                f"  {self.skus} SKUs, {cost}\n"
                f"  {self.service_metric or 'service'}: achieved {pct(self.service_achieved)} vs target {target}\n"
                f"  status {self.status or 'unknown'}, rules missed: {missed}")


# --------------------------------------------------------------------------- reading a run back
class ResultUnreadable(ScenarioError):
    """A folder given to `read` that does not hold a finished, intact result (exit status 2); the
    message names the folder and the reason (tradeoff.results_io.finished's words)."""

    def __init__(self, folder: Path | str, reason: str):
        self.folder = Path(folder)
        self.reason = reason
        super().__init__(Problem(str(folder), "", f"is not a finished result: {reason}"))


def _recorded_hash(folder: Path) -> str:
    """summary.json's scenario_hash as written ("" when there is none to read): finished() is then
    asked about that hash, so that the folder is judged by the one definition of finished."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    value = summary.get("scenario_hash") if isinstance(summary, dict) else None
    return value if isinstance(value, str) else ""


def _is_candidates(name: str) -> bool:
    """A manifest name of candidates.parquet: the file, or a part of its folder."""
    return name == "candidates.parquet" or name.startswith("candidates.parquet/")


_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _bools(table: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    # CSV has no booleans: the flag columns the writer wrote as True/False come back as bool.
    for column in columns:
        if column in table.columns and table[column].dtype != bool:
            table[column] = table[column].map(lambda v: _BOOL_TEXT.get(str(v).strip().lower(), False)).astype(bool)
    return table


def from_finished(folder: Path | str, summary: dict, scenario: Scenario | None = None, candidates: bool = True) -> Result:
    """The Result in `folder`, whose summary.json content `summary` tradeoff.results_io.finished has
    just verified (with every file of the manifest): plan.csv (None for a result whose rules cannot
    be met: summary.json status "infeasible"), frontier.csv and audit.csv (when present) read with tradeoff.csv_safe.read_csv (ids kept as text, neutralised cells restored),
    candidates.parquet with pandas (empty when absent or `candidates` is False). Raises
    ResultUnreadable when a table is missing or unreadable."""
    from tradeoff.csv_safe import read_csv
    from tradeoff.results_io import read_manifest

    from tradeoff.summary import is_infeasible

    folder = Path(folder)
    listed = read_manifest(folder)
    infeasible = is_infeasible(summary)  # no plan meets the rules: no plan.csv (Result.plan None)
    for name in ("frontier.csv",) if infeasible else ("plan.csv", "frontier.csv"):
        if name not in listed:
            raise ResultUnreadable(folder, f"incomplete ({name} not in its manifest)")
    try:
        plan = None if infeasible else read_csv(folder / "plan.csv")
        frontier = _bools(read_csv(folder / "frontier.csv"), ("cost_optimal",))
        audit = _bools(read_csv(folder / "audit.csv"), ("has_current_policy",)) if "audit.csv" in listed else None
        table = (pd.read_parquet(folder / "candidates.parquet")
                 if candidates and any(_is_candidates(name) for name in listed) else pd.DataFrame())
    except (OSError, ValueError) as exc:  # pyarrow's errors are ValueErrors (ArrowInvalid)
        raise ResultUnreadable(folder, f"a table is unreadable ({type(exc).__name__}: {exc})") from None
    return Result(scenario=scenario, plan=plan, frontier=frontier, candidates=table, summary=summary, audit=audit,
                  out_dir=folder, extras={"folder": folder.name})


def read(folder: Path | str, scenario: Scenario | str | Path | None = None, *, candidates: bool = True) -> Result:
    """A finished run read back from its result folder (the inverse of `tradeoff run --out`).

    The folder must be finished by tradeoff.results_io.finished (the definition batch and compare
    use): its manifest names summary.json and every file it lists has the size and sha256 recorded
    when it was written. The tables are read back as written (see from_finished); `summary` is
    summary.json. The folder does not hold the scenario itself (summary.json records its name,
    currency, seed, variants and scenario_hash, not its file), so `scenario` is:
      - None (the default): `Result.scenario` is None; `scenario_hash` and `scenario_name` come
        from summary.json, `cost_per_year` is None (cost_per_period is there);
      - a Scenario, or the path of its YAML file (loaded with the variants summary.json records):
        attached when its scenarios.content_hash equals the recorded scenario_hash.
    Raises ResultUnreadable (a ScenarioError, exit 2) naming the folder and the reason when the
    folder is absent, unfinished or damaged, or the scenario given is another one."""
    from tradeoff.results_io import finished

    folder = Path(folder)
    check = finished(folder, _recorded_hash(folder))
    if not check:
        raise ResultUnreadable(folder, check.reason if check.state != "other" else "damaged (summary.json records no scenario_hash)")
    summary = check.summary
    if scenario is not None:
        import scenarios

        if not hasattr(scenario, "horizon"):
            scenario = scenarios.load(scenario, variants=_get(summary, "scenario", "variants") or None)
        now = scenarios.content_hash(scenario)
        if now != summary.get("scenario_hash"):
            raise ResultUnreadable(folder, f"is of another scenario content (hash {summary.get('scenario_hash')}, "
                                           f"the scenario given has {now})")
    return from_finished(folder, summary, scenario, candidates=candidates)
