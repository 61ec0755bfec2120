"""The headline of a run: the few numbers an executive reads first, computed from the result.

Cost-optimal level and cost from the frontier's cost-optimal row; the chosen plan's level and cost from
summary.json; the extra cost of the target is measured in sample (the frontier and the selection
share the same random streams, so the difference is not blurred by noise); the implied value of a
lost unit (the optimiser's dual) is set against the demand-weighted mean margin (price - unit_cost).
Every figure that is missing from the result is simply left out. Money per year.

A run whose rules cannot be met (summary.json status "infeasible") has no plan: its headline says so
plainly (`notice`: the rule and its best achievable level), that no plan is recommended and
plan.csv not written, and what can be met (the levels of the exchange curve, the cost-optimal point).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradeoff.report.format import is_number, metric_label, money, pct
from tradeoff.report.spans import Line, b, code, line, styled

SAME_COST = 1e-6  # relative: a target that costs less than this more than the optimum "costs nothing"


def get(d: Any, *keys: str, default: Any = None) -> Any:
    """d[k1][k2]... or `default` when any level is missing or not a mapping."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d if d is not None else default


def sku_demand(result) -> dict[str, float]:
    """Mean demand per period per SKU: plan.csv's demand_per_period when present, else the scenario's
    demand distribution mean (0 when neither is known)."""
    plan = result.plan
    if plan is not None and "demand_per_period" in plan.columns and "sku" in plan.columns:
        # A column at a time, not is_number per cell: the page asks for this several times per SKU table.
        values = pd.to_numeric(plan["demand_per_period"], errors="coerce").to_numpy(float)
        known = np.isfinite(values)
        return dict(zip(plan["sku"].astype(str).to_numpy()[known].tolist(), values[known].tolist()))
    from scenarios.schema import dist_mean

    out = {}
    for sku in result.scenario.skus:
        try:
            out[sku.id] = float(dist_mean(sku.demand)) if sku.demand is not None else 0.0
        except Exception:  # noqa: BLE001 -- an unusual distribution only loses the weight
            out[sku.id] = 0.0
    return out


def weighted_mean(values: dict[str, float], weights: dict[str, float]) -> float:
    """Mean of `values` weighted by `weights` (plain mean when all weights are zero or unknown)."""
    keys = list(values)
    if not keys:
        return float("nan")
    v = np.array([values[k] for k in keys], dtype=float)
    w = np.array([weights.get(k, 0.0) for k in keys], dtype=float)
    return float((v * w).sum() / w.sum()) if w.sum() > 0 else float(v.mean())


def cost_optimal_row(frontier: pd.DataFrame | None) -> pd.Series | None:
    """The frontier's cost-optimal row (cost_optimal true), or None when there is none."""
    if frontier is None or frontier.empty or "cost_optimal" not in frontier.columns:
        return None
    rows = frontier[frontier["cost_optimal"].astype(bool)]
    return rows.iloc[0] if len(rows) else None


@dataclass
class Headline:
    """The figures of the headline (money per year, levels as shares) and its sentences (rich text)."""

    metric: str
    currency: str
    periods_per_year: float
    optimal_level: float | None = None
    optimal_cost: float | None = None
    target: float | None = None
    achieved: float | None = None
    achieved_in_sample: float | None = None
    cost: float | None = None
    cost_in_sample: float | None = None
    extra_cost: float | None = None
    implied_shortage_cost: float | None = None
    margin: float | None = None
    lost_unit_cost: float | None = None
    audit: dict | None = None
    sentences: list[Line] = field(default_factory=list)
    infeasible: dict | None = None  # summary.json's rule, best_achievable, ... when no plan meets the rules
    notice: Line | None = None  # the one line a reader must not miss (the rule that cannot be met)


def _implied(result, target: float | None) -> float | None:
    """The implied value of a lost unit at the chosen target: summary.json, else the frontier row of
    that target."""
    v = get(result.summary, "implied_shortage_cost")
    if is_number(v):
        return float(v)
    f = result.frontier
    if target is not None and f is not None and {"target", "implied_shortage_cost"} <= set(f.columns):
        rows = f[np.isclose(f["target"].astype(float), target)]
        if len(rows) and is_number(rows["implied_shortage_cost"].iloc[0]):
            return float(rows["implied_shortage_cost"].iloc[0])
    return None


def headline(result) -> Headline:
    """The headline figures and sentences of a run (see the module docstring)."""
    sc = result.scenario
    s = result.summary or {}
    ppy = float(sc.horizon.periods_per_year)
    metric = get(s, "service", "metric", default=sc.service.metric)
    h = Headline(metric=metric, currency=sc.currency, periods_per_year=ppy)
    name = metric_label(metric)
    cur = sc.currency

    row = cost_optimal_row(result.frontier)
    if row is not None:
        if is_number(row.get("achieved")):
            h.optimal_level = float(row["achieved"])
        if is_number(row.get("cost_total")):
            h.optimal_cost = float(row["cost_total"]) * ppy
    target = get(s, "service", "target")
    h.target = float(target) if is_number(target) else None
    for attr, keys in (("achieved", ("service", "achieved")), ("achieved_in_sample", ("service", "achieved_in_sample")),
                       ("cost", ("totals", "cost_total")), ("cost_in_sample", ("totals_in_sample", "cost_total"))):
        v = get(s, *keys)
        if is_number(v):
            setattr(h, attr, float(v) * (ppy if attr.startswith("cost") else 1.0))
    base = h.cost_in_sample if h.cost_in_sample is not None else h.cost
    if base is not None and h.optimal_cost is not None:
        h.extra_cost = base - h.optimal_cost
    h.implied_shortage_cost = _implied(result, h.target)
    weights = sku_demand(result)
    h.margin = weighted_mean({k.id: k.price - k.unit_cost for k in sc.skus}, weights)
    try:
        h.lost_unit_cost = weighted_mean({k.id: sc.lost_sale_per_unit(k) for k in sc.skus}, weights)
    except Exception:  # noqa: BLE001 -- a scenario object without the helper only loses this figure
        h.lost_unit_cost = None
    a = get(s, "audit")
    h.audit = a if isinstance(a, dict) else None
    if get(s, "status") == "infeasible":
        h.infeasible = s
        h.notice, h.sentences = _infeasible_sentences(result, h, name, cur)
        return h

    out = []
    if h.optimal_level is not None:
        out.append(line(f"Cost-optimal {name} ", b(pct(h.optimal_level)),
                        *((", ", b(f"{money(h.optimal_cost, cur, compact=True)} per year"), ".")
                          if h.optimal_cost is not None else (".",))))
    if h.target is not None:
        out += _target_sentences(h, name, cur)
    elif h.optimal_level is not None:
        out.append(line("No service target is set: the plan is the cost-optimal one.",
                        _settling(result, row, ppy, name, cur)))
    if h.achieved is not None:
        out.append(line("Re-simulated on fresh demand, the recommended plan delivers ", b(pct(h.achieved)), f" {name}",
                        *((" at ", b(f"{money(h.cost, cur, compact=True)} per year"), ".") if h.cost is not None
                          else (".",))))
    if h.audit:
        a = h.audit
        cur_s, rec_s = a.get("current_service"), a.get("recommended_service")
        cur_c, rec_c = (per(a.get("current_cost_total"), ppy), per(a.get("recommended_cost_total"), ppy))
        saving = per(a.get("saving"), ppy)
        n = a.get("skus_audited")
        if cur_c is not None and rec_c is not None:
            text = [f"Today's policies{f' ({n} SKUs)' if n is not None else ''}: ", b(pct(cur_s)), f" {name} at ",
                    b(money(cur_c, cur, compact=True)), " per year; recommended: ", b(pct(rec_s)), " at ",
                    b(money(rec_c, cur, compact=True)), " per year"]
            if saving is not None:
                text += ([", saving ", b(f"{money(saving, cur, compact=True)} per year")] if saving >= 0
                         else [", costing ", b(f"{money(-saving, cur, compact=True)} more per year")])
            out.append(line(*text, "."))
    h.sentences = out
    return h


def per(x: Any, ppy: float) -> float | None:
    """Money per period to per year; None when missing."""
    return float(x) * ppy if is_number(x) else None


def _settling(result, opt: pd.Series | None, ppy: float, name: str, currency: str) -> str:
    """" Settling for <the frontier level below the optimum> would save X in logistics but lose Y in
    sales: Z more per year." ('' when the frontier has no such row or the figures are missing)."""
    f = result.frontier
    cols = {"achieved", "cost_logistics", "cost_shortage", "cost_optimal"}
    if opt is None or f is None or not cols <= set(f.columns):
        return ""
    below = f[~f["cost_optimal"].astype(bool) & (f["achieved"] < float(opt["achieved"]) - 1e-9)]
    if below.empty:
        return ""
    r = below.sort_values("achieved").iloc[-1]
    saved = (float(opt["cost_logistics"]) - float(r["cost_logistics"])) * ppy
    lost = (float(r["cost_shortage"]) - float(opt["cost_shortage"])) * ppy
    if not (is_number(saved) and is_number(lost)) or saved <= 0 or lost <= 0:
        return ""
    return (f" Settling for {pct(r['achieved'])} {name} would save {money(saved, currency, compact=True)} per year in "
            f"logistics but lose {money(lost, currency, compact=True)} in sales and shortage: "
            f"{money(lost - saved, currency, compact=True)} more per year in total.")


def _target_sentences(h: Headline, name: str, cur: str) -> list[Line]:
    """What the target costs against the cost-optimal point and what it implies about a lost unit."""
    part: list = ["Your target ", b(pct(h.target))]
    tiny = (h.extra_cost is not None and h.optimal_cost is not None
            and abs(h.extra_cost) <= SAME_COST * max(abs(h.optimal_cost), 1.0))
    below = h.optimal_level is not None and h.target < h.optimal_level - 1e-9
    if h.extra_cost is None or tiny:
        if below or tiny:
            return [line(*part, " is met by the cost-optimal plan: it costs nothing extra.")]
        return [line(*part, ".")]
    if below:
        return [line(*part, f" is below the cost-optimal level ({pct(h.optimal_level)}): the cheapest plan that meets it "
                     "saves logistics cost but loses more in sales, ",
                     b(f"{money(h.extra_cost, cur, compact=True)} more per year"),
                     " in total than the cost-optimal plan. Raising service to the cost-optimal level pays for itself.")]
    part += [" costs ", b(f"{money(h.extra_cost, cur, compact=True)} more per year"), " than the cost-optimal point"]
    out = []
    if h.implied_shortage_cost is not None and h.implied_shortage_cost > 0:
        part += [" and implies you value a lost unit at ", b(money(h.implied_shortage_cost, cur))]
        if is_number(h.margin):
            part += [" against a margin of ", b(money(h.margin, cur))]
            if h.lost_unit_cost is not None and abs(h.lost_unit_cost - h.margin) > 0.01 * max(h.margin, 1e-9):
                part.append(f" (the scenario's cost of a lost unit, goodwill included: {money(h.lost_unit_cost, cur)})")
    out.append(line(*part, "."))
    if (h.implied_shortage_cost is not None and h.implied_shortage_cost > 0
            and h.lost_unit_cost is not None and h.lost_unit_cost > 0):
        ratio = h.implied_shortage_cost / h.lost_unit_cost
        if ratio > 1.5:
            out.append(line(f"The target prices a lost unit at {ratio:.1f}× what losing it costs: "
                            "it buys service that does not pay for itself."))
        elif ratio < 1 / 1.5:
            out.append(line(f"The target prices a lost unit at {ratio:.2f}× what losing it costs: "
                            "more service would pay for itself."))
    return out


def _required(result, rule: str, h: Headline) -> float | None:
    """The level a service rule asks for (the target, a class floor, the SKU floor), None if unknown."""
    service = result.scenario.service
    if rule == "service.target":
        return h.target
    if rule.startswith("service.floors."):
        return service.floors.get(rule[len("service.floors."):])
    if rule == "service.sku_floor":
        return service.sku_floor
    value: Any = result.scenario  # a limit: its value at its YAML path (budget.inventory_value, ...)
    for key in rule.split("."):
        value = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
    return float(value) if is_number(value) else None


def _failing(result, rule: str, best: Any, h: Headline, name: str) -> list:
    """"<rule> cannot be met: the best achievable <metric> is X" as spans (a limit: the smallest use)."""
    if not str(rule).startswith("service"):
        limit = _required(result, str(rule), h)
        what = [code(rule), *((" ", b(f"{limit:,.6g}")) if limit is not None else ()), " cannot be met"]
        return what + ([": the smallest achievable use is ", b(f"{float(best):,.6g}")] if is_number(best) else [])
    required = _required(result, str(rule), h)
    if rule == "service.target" and required is not None:
        what = ["Your target ", b(pct(required)), f" {name} (", code(rule), ") cannot be met"]
    else:
        what = [code(rule), *((" ", b(pct(required))) if required is not None else ()), " cannot be met"]
    if rule == "service.sku_floor" and is_number(best):
        return what + [f": a SKU's best candidate reaches {name} ", b(pct(best))]
    return what + ([f": the best achievable {name} is ", b(pct(best))] if is_number(best) else [])


def _infeasible_sentences(result, h: Headline, name: str, cur: str) -> tuple[Line, list[Line]]:
    """The notice and the sentences of a run whose rules cannot be met: the rule and its best achievable
    level, no plan recommended (no plan.csv), what can be met (the exchange curve), other rules that
    fail on their own."""
    s = h.infeasible
    rule = str(s.get("rule") or "service")
    notice = line(styled("No plan meets the rules. ", "bad"), *_failing(result, rule, s.get("best_achievable"), h, name),
                  " (with the other rules in force and the candidates simulated).")
    out = [line("No plan is recommended and ", code("plan.csv"), " is not written: a plan that breaks the rule is not "
                "presented as if it held. Lower the rule to a level that can be met, or widen the candidates.")]
    f = result.frontier
    if f is not None and len(f) and "achieved" in f.columns:
        lo, hi = float(f["achieved"].min()), float(f["achieved"].max())
        span = [b(pct(lo))] if abs(hi - lo) < 5e-4 else [b(pct(lo)), " to ", b(pct(hi))]
        text = ["What can be met: ", name, " from " if len(span) > 1 else " of ", *span,
                " on the exchange curve below"]
        if h.optimal_level is not None:
            text += ["; the cost-optimal plan reaches ", b(pct(h.optimal_level))]
            if h.optimal_cost is not None:
                text += [" at ", b(f"{money(h.optimal_cost, cur, compact=True)} per year")]
        out.append(line(*text, "."))
        unreachable = [x.get("target") for x in s.get("frontier_infeasible") or [] if isinstance(x, dict)]
        unreachable = [float(x) for x in unreachable if is_number(x)]
        if unreachable:
            shown = ", ".join(pct(x) for x in unreachable[:8]) + (" ..." if len(unreachable) > 8 else "")
            out.append(line(f"Levels of the curve that no plan reaches: {shown}."))
    else:
        out.append(line("No level of service can be met under the floors and limits, so there is no exchange curve "
                        "to draw: the rule above has to change first."))
    others = [r for r in s.get("rules_failing_alone") or [] if isinstance(r, dict) and r.get("rule") != rule]
    for r in others:
        out.append(line("Also on its own: ", *_failing(result, str(r.get("rule")), r.get("best_achievable"), h, name), "."))
    return notice, out
