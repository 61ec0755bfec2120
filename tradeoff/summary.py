"""summary.json: what a run decided and how, in one small JSON document.

Keys: scenario (name, description, currency, scenario_hash, seed, variants), engine, replications
(selection) and verification {seed, replications, seed_rule}, candidates (distinct candidates
simulated), simulations (policy evaluations run in all: contenders' re-evaluations, verification and
audit included), refine_rounds, service {metric, target, achieved (out of sample),
achieved_in_sample, rules (each rule and limit checked out of sample), rules_missed}, totals (cost
per period by bucket and cost_logistics, out of sample; totals_in_sample beside them), metrics
(demand-weighted aggregates, out of sample), solver {status, gap, objective, bound, method,
candidates_used}, implied_shortage_cost, service_dual, duals (LP dual per rule), frontier_levels
(rows of frontier.csv), frontier_infeasible (levels no plan meets, with the best achievable), audit
(when audited), timings (seconds per stage), versions, and status "ok" (a plan was chosen). Money
per period in the scenario's currency.

A run whose rules cannot be met (build_infeasible_summary) has status "infeasible", the rule the
selection names (`rule`), its `best_achievable` level and the selection's words (`message`),
`rules_failing_alone` (each rule no plan meets even on its own, with its best level alone), `plan`
(why plan.csv is not written), the scenario keys, service {metric, target, achieved null, rules [],
rules_missed [rule]}, totals null, solver {status "infeasible"}, frontier_levels and
frontier_infeasible (the exchange curve of the levels that can be met), timings and versions.
"""

from __future__ import annotations

import enum
import json
import math
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from tradeoff.verify import COSTS, RuleCheck, aggregate_metrics

PACKAGES = ("tradeoff", "pyomo", "highspy", "numpy", "pandas", "simpy", "numba")


def versions() -> dict[str, str | None]:
    """Installed version of tradeoff and of each library the result depends on (None if absent)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def cost_totals(plan: pd.DataFrame) -> dict[str, float]:
    """Sum over SKUs of every cost bucket per period, plus cost_logistics (all but shortage)."""
    totals = {c: float(plan[c].sum()) for c in COSTS}
    totals["cost_logistics"] = totals["cost_total"] - totals["cost_shortage"]
    return totals


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers, enums their value."""
    if isinstance(value, dict):
        return {str(k.value if isinstance(k, enum.Enum) else k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, enum.Enum):  # before the str test: a str-based enum (SolveStatus) is a str
        return _clean(value.value)     # whose str() is `SolveStatus.optimal`; its value is `optimal`
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return _clean(value.value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _identity(scenario, scenario_hash: str, variants: list[str], engine: str) -> dict:
    """The keys that say which run a summary is (scenario, hash, seed, engine, replications)."""
    return {
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "currency": scenario.currency,
            "scenario_hash": scenario_hash,
            "seed": scenario.seed,
            "variants": list(variants),
        },
        "scenario_hash": scenario_hash,
        "seed": scenario.seed,
        "engine": engine,
        "replications": scenario.replications,
    }


def build_summary(*, scenario, scenario_hash: str, variants: list[str], engine: str, selection, plan: pd.DataFrame,
                  in_sample: pd.DataFrame, checks: list[RuleCheck], verification: dict, candidates: int,
                  simulations: int, refine_rounds: int, frontier: pd.DataFrame, audit: dict | None, timings: dict[str, float]) -> dict:
    """The summary.json document of a run (see the module docstring for the keys).

    selection: the optimizer.Plan of the final selection; plan: plan.csv (out of sample); in_sample:
    the same SKUs' in-sample rows; verification: {seed, replications}; candidates: distinct
    candidates; simulations: policy rows simulated in all; timings in seconds."""
    metric = scenario.service.metric
    out_metrics = aggregate_metrics(plan)
    summary = {
        "status": "ok",
        **_identity(scenario, scenario_hash, variants, engine),
        "verification": dict(verification),
        "candidates": int(candidates),
        "simulations": int(simulations),
        "refine_rounds": int(refine_rounds),
        "skus": int(len(plan)),
        "service": {
            "metric": metric,
            "target": selection.target,
            "achieved": out_metrics[metric],
            "achieved_in_sample": selection.achieved,
            "rules": [c.as_dict() for c in checks],
            "rules_missed": [c.rule for c in checks if not c.met],
        },
        "totals": cost_totals(plan),
        "totals_in_sample": cost_totals(in_sample),
        "metrics": out_metrics,
        "solver": {
            "status": selection.status,
            "gap": selection.gap,
            "objective": selection.objective,
            "bound": selection.bound,
            "method": selection.method,
            "candidates_used": selection.candidates_used,
        },
        "implied_shortage_cost": selection.implied_shortage_cost,
        "service_dual": selection.service_dual,
        "duals": dict(getattr(selection, "duals", None) or {}),  # per rule, cost per period per unit of its row
        "frontier_levels": int(len(frontier)),
        "frontier_infeasible": [{"target": level, "best_achievable": best}
                                for level, best in frontier.attrs.get("infeasible", [])],
        "audit": audit,
        "timings": {k: round(v, 6) for k, v in timings.items()},
        "versions": versions(),
    }
    return _clean(summary)


INFEASIBLE = "infeasible"
PLAN_NOT_WRITTEN = ("not written: no plan meets the rules, and a plan that breaks one is not presented as a "
                    "recommendation; frontier.csv and report.html show the levels that can be met")


def is_infeasible(summary: dict | None) -> bool:
    """Whether summary.json is that of a run whose rules cannot be met (no plan.csv)."""
    return isinstance(summary, dict) and summary.get("status") == INFEASIBLE


def _is_service_rule(rule: str) -> bool:
    return str(rule).startswith("service")


def build_infeasible_summary(*, scenario, scenario_hash: str, variants: list[str], engine: str, error,
                             rules_alone: list[dict], candidates: int, simulations: int, frontier: pd.DataFrame,
                             timings: dict[str, float]) -> dict:
    """The summary.json of a run whose rules cannot be met (see the module docstring). error: the
    selection's optimizer.InfeasibleError; rules_alone: each rule failing on its own
    ({rule, best_achievable, message})."""
    metric = scenario.service.metric

    def measure(rule: str) -> str:
        return metric if _is_service_rule(rule) else "smallest use, in the limit's unit"

    summary = {
        "status": INFEASIBLE,
        "rule": error.rule,
        "best_achievable": error.best_achievable,
        "best_achievable_measure": measure(error.rule),
        "message": str(error),
        "rules_failing_alone": [dict(r, measure=measure(r["rule"])) for r in rules_alone],
        "plan": PLAN_NOT_WRITTEN,
        **_identity(scenario, scenario_hash, variants, engine),
        "candidates": int(candidates),
        "simulations": int(simulations),
        "skus": len(scenario.skus),
        "service": {
            "metric": metric,
            "target": scenario.service.target,
            "achieved": None,
            "achieved_in_sample": None,
            "rules": [],
            "rules_missed": [error.rule],
        },
        "totals": None,
        "solver": {"status": INFEASIBLE},
        "frontier_levels": int(len(frontier)),
        "frontier_infeasible": [{"target": level, "best_achievable": best}
                                for level, best in frontier.attrs.get("infeasible", [])],
        "timings": {k: round(v, 6) for k, v in timings.items()},
        "versions": versions(),
    }
    return _clean(summary)


def summary_json(summary: dict) -> str:
    """summary.json text: indented, keys in the order built, no NaN (null instead)."""
    return json.dumps(_clean(summary), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
