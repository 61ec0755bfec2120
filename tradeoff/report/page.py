"""Assembles the report pages (a run's report.html, the comparison page) from the headline, charts and
tables, in the template and style sheet shipped with the package. Self-contained: the charts are
inline SVG, the style and the few lines of table-sorting script are inline, nothing is fetched."""

from __future__ import annotations

from importlib.resources import files
from string import Template

import pandas as pd

from tradeoff.report import charts, tables
from tradeoff.report.format import BUCKETS, esc, is_number, metric_label, money, pct, plain
from tradeoff.report.headline import Headline, get, headline


def _asset(name: str) -> str:
    return files("tradeoff.report").joinpath(name).read_text(encoding="utf-8")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tradeoff")
    except Exception:  # noqa: BLE001 -- a source checkout without metadata still renders
        return "dev"


def page(title: str, body: str) -> str:
    """A complete HTML page: the template with the style sheet, `title` and `body` inlined."""
    return Template(_asset("template.html")).substitute(title=esc(title), css=_asset("style.css"), body=body,
                                                        version=esc(_version()))


def _tile(key: str, value: str, detail: str = "") -> str:
    return (f'<div class="tile"><div class="k">{key}</div><div class="v">{value}</div>'
            + (f'<div class="d">{detail}</div>' if detail else "") + "</div>")


def tiles(h: Headline) -> str:
    """The key figures as tiles: service delivered, cost per year, cost-optimal point, implied value
    of a lost unit, and the audit's saving."""
    name, cur = metric_label(h.metric), h.currency
    out = []
    if h.achieved is not None:
        out.append(_tile(f"Recommended plan: {esc(name)}", pct(h.achieved),
                         f"target {pct(h.target)}" if h.target is not None else "no target: cost-optimal"))
    if h.cost is not None:
        out.append(_tile("Total cost per year", money(h.cost, cur, compact=True), "all six buckets, out of sample"))
    if h.optimal_level is not None:
        out.append(_tile(f"Cost-optimal {esc(name)}", pct(h.optimal_level),
                         f"{money(h.optimal_cost, cur, compact=True)} per year" if h.optimal_cost is not None else ""))
    if h.implied_shortage_cost is not None and h.target is not None:
        binding = h.implied_shortage_cost > 0
        out.append(_tile("Implied value of a lost unit", money(h.implied_shortage_cost, cur) if binding else "–",
                         (f"margin {money(h.margin, cur)}" if is_number(h.margin) else "") if binding
                         else "the target does not bind"))
    if h.audit and is_number(h.audit.get("saving")):
        out.append(_tile("Saving against today", money(float(h.audit["saving"]) * h.periods_per_year, cur, compact=True),
                         "per year, audited SKUs"))
    return '<div class="tiles">' + "".join(out) + "</div>"


def _chosen_point(result, h: Headline) -> charts.Point | None:
    """The chosen plan on the exchange curve, in sample (the curve's own streams) when known."""
    level = h.achieved_in_sample if h.achieved_in_sample is not None else h.achieved
    cost = h.cost_in_sample if h.cost_in_sample is not None else h.cost
    if level is None or cost is None:
        return None
    label = f"Recommended plan: {pct(level)}, {money(cost, h.currency, compact=True)}/yr"
    if h.target is not None:
        label += f" (target {pct(h.target)})"
    return charts.Point(level, cost, label)


def _cost_bars(result, h: Headline) -> str:
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
            right.append((lab, {b: float(r[b]) * ppy for b in BUCKETS if b in r and is_number(r[b])}))
    if not left and not right:
        return ""
    return charts.cost_breakdown(left_title, left, "Along the exchange curve", right, h.currency)


def _figure(svg: str, caption: str) -> str:
    return f'<figure class="chart-box">{svg}<figcaption>{caption}</figcaption></figure>'


def render_report(result) -> str:
    """report.html of a run (see tradeoff.report)."""
    sc = result.scenario
    h = headline(result)
    name = metric_label(h.metric)
    n_skus = len(result.plan) if result.plan is not None else len(sc.skus)
    variants = get(result.summary, "scenario", "variants") or []
    title = sc.name + "".join(f"+{v}" for v in variants)
    parts = [f'<header class="top"><h1>{esc(title)}</h1>'
             f'<p class="sub">{esc(sc.description)}{" · " if sc.description else ""}{n_skus} SKUs · service measured as '
             f'{esc(name)} · money in {esc(sc.currency)} per year</p></header>']
    parts.append('<section class="headline" id="headline">' + "".join(f"<p>{s}</p>" for s in h.sentences)
                 + tiles(h) + tables.rules_html(result) + "</section>")

    chart_curve = ""
    if result.frontier is not None and len(result.frontier) and {"achieved", "cost_total"} <= set(result.frontier.columns):
        chart_curve = _figure(
            charts.exchange_curve(result.frontier, sc.currency, h.periods_per_year, h.metric,
                                  chosen=_chosen_point(result, h), target=h.target),
            "Each point is the cheapest plan for one service level (in sample). Labels on the logistics line: extra "
            "logistics cost per year for each extra point of service. Past the cost-optimal point, service costs more "
            "than the lost sales it saves.")
    rows = tables.class_service_rows(result) if result.plan is not None and len(result.plan) else None
    chart_class = ""
    if rows is not None and rows["recommended"].notna().any():
        chart_class = _figure(charts.class_service(rows, h.metric, dict(sc.service.floors), h.target),
                              f"Demand-weighted {esc(name)} of the recommended plan re-simulated on fresh demand"
                              + (" and of today's policies (audited SKUs)" if "current" in rows.columns else "")
                              + "; black ticks: the class floors and the overall target.")
    parts.append('<h2>Service against cost</h2><div class="grid2">' + chart_curve + chart_class + "</div>")
    bars = _cost_bars(result, h)
    if bars:
        parts.append("<h2>Where the money goes</h2>" + _figure(
            bars, "The six cost buckets per year. Left: " + ("today's policies against the recommended plan on the same "
                                                               "SKUs and the same simulated demand" if result.audit is not None
                                                               else "the recommended plan, out of sample, by class")
            + ". Right: the cheapest plan at each level of service (in sample): carrying and transport grow, lost sales shrink."))
    if result.plan is not None and len(result.plan):
        parts.append("<h2>Service metrics by class</h2>" + tables.class_table(result)
                     + '<p class="note">Out-of-sample figures of the recommended plan, demand-weighted over the SKUs of each '
                       "class. Order cycle times in periods from order to delivery; on-time against the promised order cycle.</p>")
    if result.audit is not None and len(result.audit):
        missing = get(result.summary, "audit", "skus_without_current_policy") or []
        parts.append("<h2>Service audit: today against the recommendation</h2>" + tables.audit_table(result)
                     + ('<p class="note">No current policy in the scenario for: ' + esc(", ".join(map(str, missing)))
                        + ". They are planned but not audited.</p>" if missing else "")
                     + '<p class="note">Both sides simulated on the same demand (common random numbers). Click a header to sort.</p>')
    if result.plan is not None and len(result.plan):
        parts.append("<h2>Recommended plan per SKU</h2>" + tables.sku_table(result)
                     + '<p class="note">Out of sample; ± is the 95 % half-width. Click a header to sort.</p>')
    if result.frontier is not None and len(result.frontier):
        parts.append("<h2>The exchange curve in numbers</h2>" + tables.frontier_table(result))
    parts.append("<h2>Provenance</h2>" + tables.provenance_html(result))
    return page(f"{title}: service and cost", "\n".join(parts))


def label_of(result) -> str:
    """A result's name in a comparison: the folder name (scenario name + variants)."""
    folder = (result.extras or {}).get("folder")
    if folder:
        return str(folder)
    variants = get(result.summary, "scenario", "variants") or []
    return result.scenario.name + "".join(f"+{v}" for v in variants)


def render_compare(results: list) -> str:
    """The comparison page of several runs (see tradeoff.report)."""
    from tradeoff.compare import compare_table

    table = compare_table(results)
    currencies = sorted({r.scenario.currency for r in results})
    currency = currencies[0] if len(currencies) == 1 else "mixed currencies"
    metrics = sorted({get(r.summary, "service", "metric", default=r.scenario.service.metric) for r in results})
    metric = metrics[0] if len(metrics) == 1 else "service"
    parts = [f'<header class="top"><h1>Scenario comparison</h1><p class="sub">{len(results)} scenarios: '
             f'{esc(", ".join(label_of(r) for r in results))} · money in {esc(", ".join(currencies))} per year</p></header>']
    sentences = []
    if "cost_per_year" in table.columns and len(table) > 1:
        best = table["cost_per_year"].idxmin()
        sentences.append(f"Cheapest recommended plan: <b>{esc(best)}</b> at "
                         f"<b>{money(table.loc[best, 'cost_per_year'], table.loc[best, 'currency'], compact=True)} per year</b>.")
    missed_rules = {label_of(r): get(r.summary, "service", "rules_missed") for r in results}
    base = table.index[0]
    for lab, r in table.iloc[1:].iterrows():  # each against the first: what the change costs
        b = table.loc[base]
        if r["currency"] == b["currency"] and is_number(r.get("cost_per_year")) and is_number(b.get("cost_per_year")):
            d = float(r["cost_per_year"]) - float(b["cost_per_year"])
            rel = (f" ({100 * d / float(b['cost_per_year']):+.1f} %)".replace("-", "−")
                   if float(b["cost_per_year"]) else "")
            text = (f"<b>{esc(lab)}</b> against <b>{esc(base)}</b>: {money(d, r['currency'], compact=True, sign=True)} "
                    f"per year{rel}")
            if is_number(r.get("achieved")) and is_number(b.get("achieved")):
                points = f"{100 * (float(r['achieved']) - float(b['achieved'])):+.1f}".replace("-", "−")
                text += f", {esc(metric_label(r['metric']))} {points} points"
            sentences.append(text + ".")
    for lab, r in table.iterrows():
        bits = [f"<b>{esc(lab)}</b>: cost-optimal {esc(metric_label(r['metric']))} {pct(r.get('cost_optimal_level'))}"]
        if is_number(r.get("target")):
            bits.append(f"target {pct(r['target'])}")
        bits.append(f"plan delivers {pct(r.get('achieved'))} at {money(r.get('cost_per_year'), r['currency'], compact=True)} per year")
        missed = missed_rules.get(lab)
        if missed:
            bits.append(f'<span class="bad">missed out of sample: {esc(", ".join(map(str, missed)))}</span>')
        sentences.append(", ".join(bits) + ".")
    if len(currencies) > 1:
        sentences.append('<span class="bad">The scenarios use different currencies: compare costs with care.</span>')
    parts.append('<section class="headline" id="headline">' + "".join(f"<p>{s}</p>" for s in sentences) + "</section>")
    short = short_labels([label_of(r) for r in results])
    series = []
    for r in results:
        if r.frontier is None or not len(r.frontier):
            continue
        h = headline(r)
        series.append({"label": short[label_of(r)], "frontier": r.frontier, "periods_per_year": h.periods_per_year,
                       "chosen": _chosen_point(r, h)})
    figs = []
    if series:
        figs.append(_figure(charts.compare_frontiers(series, metric, currency),
                            "Total cost per year against service level, each scenario's cheapest plans (in sample); "
                            "stars: cost-optimal points, diamonds: the recommended plans."))
    bars = [(wrap_label(short[label_of(r)]), tables.bucket_totals(r.plan, float(r.scenario.horizon.periods_per_year)))
            for r in results if r.plan is not None and len(r.plan)]
    if bars:
        figs.append(_figure(charts.compare_costs(bars, currency),
                            "The recommended plans re-simulated on fresh demand, by cost bucket, per year."))
    parts.append('<h2>Side by side</h2><div class="grid2 even">' + "".join(figs) + "</div>")
    parts.append("<h2>The comparison in numbers</h2>" + compare_html(table))
    parts.append("<h2>Provenance</h2>" + _compare_provenance(results))
    return page("Scenario comparison", "\n".join(parts))


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


def compare_html(table: pd.DataFrame) -> str:
    """The comparison table (one row per scenario) as sortable HTML; money per year."""
    cols = [tables.Column("Scenario", lambda r: f"<b>{esc(r.name)}</b>"),
            tables.Column("SKUs", lambda r: str(int(r["skus"])), lambda r: r["skus"]),
            tables.Column("Target", lambda r: pct(r.get("target")), lambda r: r.get("target")),
            tables.Column("Achieved", lambda r: pct(r.get("achieved")), lambda r: r.get("achieved"),
                          "the service metric of the recommended plan, out of sample"),
            tables.Column("Cost-optimal level", lambda r: pct(r.get("cost_optimal_level")), lambda r: r.get("cost_optimal_level")),
            tables.Column("Total cost / yr", lambda r: f"<b>{money(r.get('cost_per_year'), r['currency'])}</b>",
                          lambda r: r.get("cost_per_year"))]
    for b in BUCKETS:
        k = f"{b}_per_year"
        if k in table.columns:
            cols.append(tables.Column(f"{tables.BUCKET_LABELS[b]} / yr", lambda r, k=k: money(r.get(k), r["currency"]),
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
    return tables.html_table(table, cols, "compare-table")


def _compare_provenance(results: list) -> str:
    rows = []
    for r in results:
        s = r.summary or {}
        rows.append(f"<dt>{esc(label_of(r))}</dt><dd>hash {esc(get(s, 'scenario_hash', default='–'))} · seed "
                    f"{esc(get(s, 'seed', default=r.scenario.seed))} · engine {esc(get(s, 'engine', default='–'))} · solver "
                    f"{esc(plain(get(s, 'solver', 'status', default='–')))}"
                    + (f" · folder {esc(r.out_dir)}" if r.out_dir is not None else "") + "</dd>")
    return '<dl class="prov">' + "".join(rows) + "</dl>"
