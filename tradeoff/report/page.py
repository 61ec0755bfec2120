"""Assembles the report pages (a run's report.html, the comparison page) from the headline, charts and
tables, through the Jinja2 templates in tradeoff/report/templates/ with autoescaping on: the pages are
given plain data (text, numbers, typed rows, rich text as spans.Line), so no user string (a scenario
name, a currency, a SKU id, a class) ever reaches the page as markup. The only markup passed in is the
charts' SVG, made and checked by tradeoff/report/charts.py. Self-contained: the charts are inline
SVG, the style and the few lines of table-sorting script are inline, nothing is fetched."""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass

import jinja2
import pandas as pd
from markupsafe import Markup

from tradeoff.comparison import compare_table, label_of
from tradeoff.report import charts, tables
from tradeoff.report.format import BUCKETS, is_number, metric_label, money, pct, plain
from tradeoff.report.headline import Headline, get, headline
from tradeoff.report.spans import Line, b, line, styled


@functools.cache
def environment() -> jinja2.Environment:
    """The templates, autoescaped (every value is text unless it is Markup), strict about undefined
    names (a typo fails the render instead of leaving a blank)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("tradeoff.report", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


@functools.cache
def script_hash() -> str:
    """The CSP source of the page's one script ('sha256-<base64>'), so that it alone may run."""
    script = environment().get_template("sort.js.j2").render()
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tradeoff")
    except Exception:  # noqa: BLE001 -- a source checkout without metadata still renders
        return "dev"


def render(template: str, **context) -> str:
    """A complete HTML page: `template` (in templates/) rendered with `context`, the package version
    and the hash of the page's script (for its Content-Security-Policy)."""
    return environment().get_template(template).render(version=_version(), script_hash=script_hash(), **context)


@dataclass(frozen=True)
class Tile:
    """A key figure: what it is, its value and an optional detail line (all plain text)."""

    key: str
    value: str
    detail: str = ""


def tiles(h: Headline) -> list[Tile]:
    """The key figures as tiles: service delivered, cost per year, cost-optimal point, implied value
    of a lost unit, and the audit's saving."""
    name, cur = metric_label(h.metric), h.currency
    out = []
    if h.infeasible is not None:  # no plan: the rule's best achievable level instead of the plan's figures
        rule, best = str(h.infeasible.get("rule") or ""), h.infeasible.get("best_achievable")
        if rule.startswith("service"):
            out.append(Tile(f"Best achievable {name}", pct(best) if is_number(best) else "–",
                            f"{rule}: cannot be met; no plan recommended"))
        else:
            out.append(Tile("Smallest achievable use", f"{float(best):,.6g}" if is_number(best) else "–",
                            f"{rule}: cannot be met; no plan recommended"))
    if h.achieved is not None:
        out.append(Tile(f"Recommended plan: {name}", pct(h.achieved),
                        (f"target {pct(h.target)}" if h.target is not None else "no target: cost-optimal")
                        + ", out of sample"))
    if h.cost is not None:
        out.append(Tile("Total cost per year", money(h.cost, cur, compact=True), "all six buckets, out of sample"))
    if h.optimal_level is not None:
        out.append(Tile(f"Cost-optimal {name}", pct(h.optimal_level),
                        (f"{money(h.optimal_cost, cur, compact=True)} per year, " if h.optimal_cost is not None else "")
                        + "in sample (the exchange curve)"))
    if h.implied_shortage_cost is not None and h.target is not None:
        binding = h.implied_shortage_cost > 0
        out.append(Tile("Implied value of a lost unit", money(h.implied_shortage_cost, cur) if binding else "–",
                        (f"margin {money(h.margin, cur)}; " if is_number(h.margin) else "") + "from the selection, in sample"
                        if binding else "the target does not bind"))
    if h.audit and is_number(h.audit.get("saving")):
        out.append(Tile("Saving against today", money(float(h.audit["saving"]) * h.periods_per_year, cur, compact=True),
                        "per year, audited SKUs, out of sample"))
    return out


def _tier_point(result, h: Headline, tier: str) -> charts.Point | None:
    """The chosen plan on a tier's exchange curve: that tier's level and the plan's cost, out of sample."""
    rows = [t for t in get(result.summary, "tiers", default=None) or [] if isinstance(t, dict) and t.get("tier") == tier]
    level = rows[0].get(h.metric) if rows else None
    if not is_number(level) or h.cost is None:
        return None
    return charts.Point(float(level), h.cost, f"Recommended plan: tier {tier} {pct(level)}, "
                        f"{money(h.cost, h.currency, compact=True)}/yr (out of sample)")


def _chosen_point(result, h: Headline) -> charts.Point | None:
    """The chosen plan on the exchange curve, in sample (the curve's own streams) when known."""
    in_sample = h.achieved_in_sample is not None and h.cost_in_sample is not None
    level = h.achieved_in_sample if in_sample else h.achieved
    cost = h.cost_in_sample if in_sample else h.cost
    if level is None or cost is None:
        return None
    # Labelled with where its figures come from: the curve is in sample, the tiles out of sample
    # (issue 15, point 3: one plan, figures that say which they are).
    label = (f"Recommended plan, {'in sample' if in_sample else 'out of sample'}: {pct(level)}, "
             f"{money(cost, h.currency, compact=True)}/yr")
    if h.target is not None:
        label += f" (target {pct(h.target)})"
    return charts.Point(level, cost, label)


def _cost_bars(result, h: Headline) -> Markup | None:
    """The cost breakdown chart: current vs recommended on the audited SKUs when audited, else the plan
    by class; beside it the plans along the exchange curve."""
    ppy = h.periods_per_year
    left, left_title = [], ""
    a = result.audit
    if a is not None and len(a) and "current_cost_total" in a.columns:
        audited = a[a["has_current_policy"].astype(bool)] if "has_current_policy" in a.columns else a
        if len(audited):
            left = [("Current\npolicies", tables.bucket_totals(audited, ppy, "current_")),
                    ("Recommended\nplan", tables.bucket_totals(audited, ppy, "recommended_"))]
            left_title = f"Today vs plan ({len(audited)} audited SKUs)"
    if not left and result.plan is not None and len(result.plan):
        plan = tables.with_demand(result, result.plan)
        left = [(f"Class {c}", tables.bucket_totals(g, ppy)) for c, g in plan.groupby("class", sort=True)]
        left_title = "Recommended plan by class"
    right = []
    f = result.frontier
    if f is not None and len(f) and "achieved" in f.columns:
        f = f.sort_values("achieved", kind="stable")
        if len(f) > 10:  # keep bars readable: the cost-optimal row and an even spread of the others
            keep = set(f.index[f["cost_optimal"].astype(bool)]) if "cost_optimal" in f.columns else set()
            keep |= set(f.index[:: max(1, len(f) // 9)])
            f = f.loc[[i for i in f.index if i in keep]]
        # one bar per distinct level: floors can make several targets give the same plan
        opt = f["cost_optimal"].astype(bool) if "cost_optimal" in f.columns else pd.Series(False, index=f.index)
        f = f.assign(_level=f["achieved"].round(3), _opt=opt)  # levels shown to 0.1 point
        f = f.sort_values(["_level", "_opt"], ascending=[True, False], kind="stable").drop_duplicates("_level")
        for _, r in f.iterrows():
            lab = pct(r["achieved"])
            if bool(r.get("cost_optimal", False)):
                lab += "\ncost-opt."
            right.append((lab, {k: float(r[k]) * ppy for k in BUCKETS if k in r and is_number(r[k])}))
    if not left and not right:
        return None
    return charts.cost_breakdown(left_title, left, "Along the exchange curve", right, h.currency)


def _has_rows(table: pd.DataFrame | None) -> bool:
    return table is not None and len(table) > 0


def _report_charts(result, h: Headline) -> dict:
    """The report's charts as checked SVG (None when there is nothing to draw): the exchange curve,
    service by class and the cost breakdown; `class_current` tells whether the class chart shows
    today's policies too."""
    sc, f = result.scenario, result.frontier
    curve = None
    if _has_rows(f) and {"achieved", "cost_total"} <= set(f.columns):
        tier = get(result.summary, "frontier_tier", default=None)
        if tier:  # the curve of one customer tier's level: the plan at that tier's level, no aggregate target
            curve = charts.exchange_curve(f, sc.currency, h.periods_per_year, h.metric,
                                          chosen=_tier_point(result, h, str(tier)), level_of=str(tier))
        else:
            curve = charts.exchange_curve(f, sc.currency, h.periods_per_year, h.metric,
                                          chosen=_chosen_point(result, h), target=h.target)
    rows = tables.class_service_rows(result) if _has_rows(result.plan) else None
    by_class = None
    if rows is not None and rows["recommended"].notna().any():
        by_class = charts.class_service(rows, h.metric, dict(sc.service.floors), h.target)
    return {"curve": curve, "class_service": by_class, "costs": _cost_bars(result, h),
            "class_current": rows is not None and "current" in rows.columns}


def _report_tables(result) -> dict:
    """The report's tables (None when the result has no such rows); `tiers` the customer-tier section
    (tables.TierSection, None without customer tiers)."""
    planned = _has_rows(result.plan)
    return {"class_metrics": tables.class_table(result) if planned else None,
            "audit": tables.audit_table(result) if _has_rows(result.audit) else None,
            "sku": tables.sku_table(result) if planned else None,
            "frontier": tables.frontier_table(result) if _has_rows(result.frontier) else None,
            "tiers": tables.tier_section(result),
            "demand_models": tables.demand_model_table(result) if planned else None}


def render_report(result) -> str:
    """report.html of a run (see tradeoff.report)."""
    sc = result.scenario
    h = headline(result)
    variants = get(result.summary, "scenario", "variants") or []
    title = sc.name + "".join(f"+{v}" for v in variants)
    figures = _report_charts(result, h)
    missing = (get(result.summary, "audit", "skus_without_current_policy") or []) if _has_rows(result.audit) else []
    return render(
        "report.html.j2", page_title=f"{title}: service and cost", title=title, description=sc.description,
        n_skus=len(result.plan) if result.plan is not None else len(sc.skus), metric=metric_label(h.metric),
        currency=sc.currency, notice=h.notice, sentences=h.sentences, tiles=tiles(h), rules=tables.rules(result),
        tightening=tables.tightening(result), warnings=[str(w) for w in get(result.summary, "warnings") or []],
        charts=figures,
        audited=result.audit is not None, tables=_report_tables(result), missing_audit=[str(m) for m in missing],
        provenance=tables.provenance(result))


def render_compare(results: list) -> str:
    """The comparison page of several runs (see tradeoff.report)."""
    table = compare_table(results)
    currencies = sorted({r.scenario.currency for r in results})
    currency = currencies[0] if len(currencies) == 1 else "mixed currencies"
    metrics = sorted({get(r.summary, "service", "metric", default=r.scenario.service.metric) for r in results})
    metric = metrics[0] if len(metrics) == 1 else "service"
    return render(
        "compare.html.j2", page_title="Scenario comparison", n=len(results),
        labels=", ".join(label_of(r) for r in results), currencies=", ".join(currencies),
        sentences=compare_sentences(results, table, currencies), charts=_compare_charts(results, metric, currency),
        comparison=comparison_table(table), provenance=_compare_provenance(results))


def compare_sentences(results: list, table: pd.DataFrame, currencies: list[str]) -> list[Line]:
    """The comparison's headline: the cheapest plan, each run against the first (what the change
    costs), each run's cost-optimal level, target and plan, the rules missed, a mixed-currency warning."""
    sentences = []
    if "cost_per_year" in table.columns and len(table) > 1:
        best = table["cost_per_year"].idxmin()
        sentences.append(line("Cheapest recommended plan: ", b(best), " at ",
                              b(f"{money(table.loc[best, 'cost_per_year'], table.loc[best, 'currency'], compact=True)} per year"),
                              "."))
    base = table.index[0]
    for lab, r in table.iloc[1:].iterrows():
        sentence = _against_base(lab, r, base, table.loc[base])
        if sentence:
            sentences.append(sentence)
    missed_rules = {label_of(r): get(r.summary, "service", "rules_missed") for r in results}
    for lab, r in table.iterrows():
        bits: list = [b(lab), f": cost-optimal {metric_label(r['metric'])} {pct(r.get('cost_optimal_level'))}"]
        if is_number(r.get("target")):
            bits.append(f", target {pct(r['target'])}")
        bits.append(f", plan delivers {pct(r.get('achieved'))} at "
                    f"{money(r.get('cost_per_year'), r['currency'], compact=True)} per year")
        missed = missed_rules.get(lab)
        if missed:
            bits += [", ", styled(f"missed out of sample: {', '.join(map(str, missed))}", "bad")]
        sentences.append(line(*bits, "."))
    if len(currencies) > 1:
        sentences.append(line(styled("The scenarios use different currencies: compare costs with care.", "bad")))
    return sentences


def _against_base(lab: str, r: pd.Series, base: str, b0: pd.Series) -> Line | None:
    """"<run> against <base>: +€1.2 M per year (+3.4 %), fill rate +1.0 points." (None when the two
    cannot be compared: different currencies or a cost missing)."""
    if not (r["currency"] == b0["currency"] and is_number(r.get("cost_per_year")) and is_number(b0.get("cost_per_year"))):
        return None
    d = float(r["cost_per_year"]) - float(b0["cost_per_year"])
    rel = (f" ({100 * d / float(b0['cost_per_year']):+.1f} %)".replace("-", "−") if float(b0["cost_per_year"]) else "")
    text = f": {money(d, r['currency'], compact=True, sign=True)} per year{rel}"
    if is_number(r.get("achieved")) and is_number(b0.get("achieved")):
        points = f"{100 * (float(r['achieved']) - float(b0['achieved'])):+.1f}".replace("-", "−")
        text += f", {metric_label(r['metric'])} {points} points"
    return line(b(lab), " against ", b(base), text, ".")


def _compare_charts(results: list, metric: str, currency: str) -> dict:
    """The comparison's charts as checked SVG (None when no run has the data): the exchange curves
    overlaid and the recommended plans' cost by bucket."""
    short = short_labels([label_of(r) for r in results])
    series = []
    for r in results:
        if r.frontier is None or not len(r.frontier):
            continue
        h = headline(r)
        series.append({"label": short[label_of(r)], "frontier": r.frontier, "periods_per_year": h.periods_per_year,
                       "chosen": _chosen_point(r, h)})
    bars = [(wrap_label(short[label_of(r)]), tables.bucket_totals(r.plan, float(r.scenario.horizon.periods_per_year)))
            for r in results if r.plan is not None and len(r.plan)]
    return {"frontiers": charts.compare_frontiers(series, metric, currency) if series else None,
            "costs": charts.compare_costs(bars, currency) if bars else None}


def short_labels(labels: list[str]) -> dict[str, str]:
    """Chart labels: a variant run whose base run is also compared is shown as "+variant"."""
    present = set(labels)
    return {lab: lab[len(lab.split("+")[0]):] if "+" in lab and lab.split("+")[0] in present else lab
            for lab in labels}


def wrap_label(label: str, width: int = 14) -> str:
    """A long name broken into lines at '-', '_' or '+' so that bar labels never run into each other."""
    import re

    parts, line, lines = re.split(r"(?<=[-_+])|(?=\+)", label), "", []
    for p in filter(None, parts):
        if line and len(line) + len(p) > width:
            lines.append(line)
            line = ""
        line += p
    return "\n".join(lines + [line])


def comparison_table(table: pd.DataFrame) -> tables.Table:
    """The comparison table (one row per scenario), sortable; money per year."""
    cols = [tables.Column("Scenario", lambda r: b(r.name)),
            tables.Column("SKUs", lambda r: str(int(r["skus"])), lambda r: r["skus"]),
            tables.Column("Target", lambda r: pct(r.get("target")), lambda r: r.get("target")),
            tables.Column("Achieved", lambda r: pct(r.get("achieved")), lambda r: r.get("achieved"),
                          "the service metric of the recommended plan, out of sample"),
            tables.Column("Cost-optimal level", lambda r: pct(r.get("cost_optimal_level")), lambda r: r.get("cost_optimal_level")),
            tables.Column("Total cost / yr", lambda r: b(money(r.get("cost_per_year"), r["currency"])),
                          lambda r: r.get("cost_per_year"))]
    for bucket in BUCKETS:
        k = f"{bucket}_per_year"
        if k in table.columns:
            cols.append(tables.Column(f"{tables.BUCKET_LABELS[bucket]} / yr", lambda r, k=k: money(r.get(k), r["currency"]),
                                      lambda r, k=k: r.get(k)))
    for m in ("fill_rate", "cycle_service_level", "order_fill_rate", "on_time_rate"):
        if m in table.columns:
            cols.append(tables.Column(metric_label(m).capitalize(), lambda r, m=m: pct(r.get(m)), lambda r, m=m: r.get(m)))
    if "avg_on_hand" in table.columns:
        cols.append(tables.Column("Avg on hand (units)", lambda r: tables.num(r.get("avg_on_hand"), 0), lambda r: r.get("avg_on_hand")))
    if "implied_shortage_cost" in table.columns:
        cols.append(tables.Column("Implied value of a lost unit", lambda r: money(r.get("implied_shortage_cost"), r["currency"]),
                                  lambda r: r.get("implied_shortage_cost")))
    if "audit_saving_per_year" in table.columns and table["audit_saving_per_year"].notna().any():
        cols.append(tables.Column("Saving vs today / yr", lambda r: money(r.get("audit_saving_per_year"), r["currency"], sign=True),
                                  lambda r: r.get("audit_saving_per_year"), "audited SKUs: current minus recommended cost"))
    if "margin" in table.columns:
        cols.append(tables.Column("Mean margin", lambda r: money(r.get("margin"), r["currency"]), lambda r: r.get("margin"),
                                  "demand-weighted price - unit_cost"))
    return tables.table(table, cols, "compare-table")


def _compare_provenance(results: list) -> list[tuple[str, str]]:
    """Per run: (its name, "hash … · seed … · engine … · solver … · folder …")."""
    rows = []
    for r in results:
        s = r.summary or {}
        rows.append((label_of(r), f"hash {get(s, 'scenario_hash', default='–')} · seed "
                                  f"{get(s, 'seed', default=r.scenario.seed)} · engine {get(s, 'engine', default='–')} · solver "
                                  f"{plain(get(s, 'solver', 'status', default='–'))}"
                                  + (f" · folder {r.out_dir}" if r.out_dir is not None else "")))
    return rows
