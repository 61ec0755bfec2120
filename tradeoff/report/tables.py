"""The report's tables as plain data for the templates (`Table`: headers and rows of `Cell`s, whose
content is rich text, never HTML): service per class, service per customer tier (and per SKU and tier),
the per-SKU plan (with expedited shipments and the demand model when the run has them), the demand
models by pattern, the audit, the frontier, the run's provenance and the service rules. Numeric cells carry their raw value (`Cell.sort`, written to
`data-v`) so the page can sort them; money per year."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradeoff.report.format import BUCKET_LABELS, BUCKETS, is_number, metric_label, money, num, pct, period_word, plain
from tradeoff.report.headline import get, sku_demand
from tradeoff.report.spans import Line, Span, b, code, line, styled

CLASS_METRICS = ["fill_rate", "cycle_service_level", "order_fill_rate", "order_cycle_mean", "order_cycle_sd",
                 "on_time_rate", "stockout_frequency"]
RATES = {"fill_rate", "cycle_service_level", "order_fill_rate", "on_time_rate", "backorder_rate",
         "substitution_rate", "lost_sales_rate"}


class Row(dict):
    """One row of a table as a plain mapping (column -> value), with its index label as `name`: what
    a Column reads, like the Series of DataFrame.iterrows but without a Series per row, so that a
    table of 500 SKUs does not pay pandas' indexing for each of its thousands of cells."""

    __slots__ = ("name",)

    def __init__(self, values: dict, name: Any = None):
        super().__init__(values)
        self.name = name


def rows_of(frame: pd.DataFrame) -> list[Row]:
    """The rows of `frame`, in order, as Rows (values as Python scalars, NaN for a missing number)."""
    return [Row(values, name) for values, name in zip(frame.to_dict("records"), frame.index)]


@dataclass
class Column:
    """One column of a table: the header, how to get the shown text of a row (plain text or rich
    text) and, for numeric columns, its sort value (a number, or None when missing)."""

    label: str
    text: Callable[[Row], str | Span | Line]
    value: Callable[[Row], Any] | None = None
    title: str = ""


@dataclass(frozen=True)
class Header:
    """A column header: its label and the tooltip that explains it ('' for none)."""

    label: str
    title: str = ""


@dataclass(frozen=True)
class Cell:
    """A table cell: what it shows, whether it is a number (right-aligned) and its raw sort value as
    text (`data-v`; None when it has none)."""

    content: Line
    numeric: bool = False
    sort: str | None = None

    @property
    def plain(self) -> str | None:
        """The cell's text when it is plain text only (one unstyled span, or none), else None: the
        page writes such a cell without the rich-text macro."""
        spans = self.content.spans
        if not spans:
            return ""
        return spans[0].text if len(spans) == 1 and not spans[0].style else None


@dataclass(frozen=True)
class Table:
    """A table for the page template: `id` (the HTML id), headers, rows of cells; `sortable` tables
    sort on a header click."""

    id: str
    headers: tuple[Header, ...]
    rows: tuple[tuple[Cell, ...], ...]
    sortable: bool = True
    total: int = 0  # rows before the page's cap (REPORT_ROWS_MAX); 0: every row is shown

    def column(self, label_start: str) -> list[Cell]:
        """The cells of the first column whose header starts with `label_start`."""
        k = next(i for i, h in enumerate(self.headers) if h.label.startswith(label_start))
        return [r[k] for r in self.rows]


REPORT_ROWS_MAX = 500  # per-SKU rows on the page at most: a page of 100,000 rows is unreadable and huge


def largest(rows: pd.DataFrame, cost: pd.Series, limit: int = REPORT_ROWS_MAX) -> tuple[pd.DataFrame, int]:
    """(`rows` as they are when there are at most `limit`, else the `limit` rows of highest `cost`,
    highest first, ties in row order; the number of rows there were)."""
    if len(rows) <= limit:
        return rows, 0
    order = np.argsort(-np.nan_to_num(cost.to_numpy(dtype=float), nan=-np.inf), kind="stable")[:limit]
    return rows.iloc[order], len(rows)


def table(rows: pd.DataFrame, columns: list[Column], table_id: str, sortable: bool = True, total: int = 0) -> Table:
    """`rows` as a Table with the given columns; numeric sort values kept to 12 significant digits.
    `total`: the rows there were before a cap (see `largest`)."""
    body = []
    for r in rows_of(rows):
        cells = []
        for c in columns:
            v = c.value(r) if c.value is not None else None
            cells.append(Cell(_content(c.text(r)), numeric=c.value is not None,
                              sort=f"{float(v):.12g}" if is_number(v) else None))
        body.append(tuple(cells))
    return Table(table_id, tuple(Header(c.label, c.title) for c in columns), tuple(body), sortable, total)


def _content(text: str | Span | Line) -> Line:
    """A cell's text as a Line: spans.line(text), with the most common cell, one piece of plain
    text, made directly (there are thousands of cells on a page)."""
    if type(text) is str:
        return Line((Span(text),)) if text else Line()
    return line(text)


def _wmean(values: pd.Series, weights: pd.Series) -> float:
    v = values.astype(float).to_numpy()
    w = weights.astype(float).to_numpy()
    ok = np.isfinite(v) & np.isfinite(w)
    if not ok.any():
        return float("nan")
    if w[ok].sum() > 0:
        return float((v[ok] * w[ok]).sum() / w[ok].sum())
    return float(v[ok].mean())


def with_demand(result, table: pd.DataFrame) -> pd.DataFrame:
    """`table` (rows with a `sku` column) with `demand_per_period` and `class` filled in where missing."""
    t = table.copy()
    demand = sku_demand(result)
    if "demand_per_period" not in t.columns:
        t["demand_per_period"] = t["sku"].astype(str).map(demand).fillna(0.0)
    if "class" not in t.columns:
        from scenarios.abc import sku_classes

        t["class"] = t["sku"].astype(str).map(sku_classes(result.scenario))
    t["class"] = t["class"].fillna("–").astype(str)
    return t


def class_metrics(result) -> pd.DataFrame:
    """Service metrics per class and overall ("All"), demand-weighted over the plan's SKUs (out of
    sample): SKUs, share of demand, the CLASS_METRICS present in plan.csv, cost per year."""
    plan = with_demand(result, result.plan)
    ppy = float(result.scenario.horizon.periods_per_year)
    total_demand = float(plan["demand_per_period"].sum())
    groups = [(c, g) for c, g in plan.groupby("class", sort=True)] + [("All", plan)]
    rows = []
    for cls, g in groups:
        row = {"class": cls, "skus": len(g),
               "demand_share": float(g["demand_per_period"].sum()) / total_demand if total_demand > 0 else float("nan")}
        for m in CLASS_METRICS:
            if m in g.columns:
                row[m] = _wmean(g[m], g["demand_per_period"])
        if "cost_total" in g.columns:
            row["cost_per_year"] = float(g["cost_total"].sum()) * ppy
        rows.append(row)
    return pd.DataFrame(rows).set_index("class")


def class_service_rows(result) -> pd.DataFrame:
    """Per class and "All": the scenario's service metric for the recommended plan and, when audited,
    for the current policies (over the SKUs that have one), as shares."""
    metric = get(result.summary, "service", "metric", default=result.scenario.service.metric)
    cm = class_metrics(result)
    rows = pd.DataFrame(index=cm.index)
    rows["recommended"] = cm[metric] if metric in cm.columns else np.nan
    a = result.audit
    if a is not None and f"current_{metric}" in a.columns and len(a):
        a = with_demand(result, a)
        if "has_current_policy" in a.columns:
            a = a[a["has_current_policy"].astype(bool)]
        cur = {cls: _wmean(g[f"current_{metric}"], g["demand_per_period"]) for cls, g in a.groupby("class")}
        cur["All"] = _wmean(a[f"current_{metric}"], a["demand_per_period"]) if len(a) else float("nan")
        rows["current"] = [cur.get(c, float("nan")) for c in rows.index]
    return rows


def class_table(result) -> Table:
    """Service metrics per class (and overall) as a table."""
    cm = class_metrics(result).reset_index()
    cur = result.scenario.currency
    pw = period_word(result.scenario)
    cols = [Column("Class", lambda r: b(r["class"])),
            Column("SKUs", lambda r: str(int(r["skus"])), lambda r: r["skus"]),
            Column("Share of demand", lambda r: pct(r["demand_share"]), lambda r: r["demand_share"])]
    for m in CLASS_METRICS:
        if m not in cm.columns:
            continue
        if m in RATES:
            cols.append(Column(metric_label(m).capitalize(), lambda r, m=m: pct(r[m]), lambda r, m=m: r[m]))
        elif m == "stockout_frequency":
            cols.append(Column(f"Stockouts per {pw}", lambda r, m=m: num(r[m], 3), lambda r, m=m: r[m],
                               "stockout events per period, demand-weighted mean over SKUs"))
        else:
            cols.append(Column(f"{metric_label(m).capitalize()} ({pw}s)", lambda r, m=m: num(r[m], 2), lambda r, m=m: r[m]))
    if "cost_per_year" in cm.columns:
        cols.append(Column(f"Cost per year ({cur})", lambda r: money(r["cost_per_year"], cur), lambda r: r["cost_per_year"]))
    return table(cm, cols, "class-metrics", sortable=False)


def policy_text(r: Row | pd.Series, prefix: str = "") -> str:
    """A policy's parameters in a few characters: `s 20 · S 60 · R 7` (only those it uses); a
    critical level above 0 (customer tiers, docs/tiers.md) as `c 12`."""
    parts = []
    for p in ("s", "S", "Q", "R", "cap"):
        v = r.get(prefix + p)
        if is_number(v) and not (p == "R" and float(v) == 0):
            parts.append(f"{p} {float(v):g}")
    c = r.get(prefix + "critical_level")
    if is_number(c) and float(c) > 0:
        parts.append(f"c {float(c):g}")
    return " · ".join(parts)


POLICY_TITLE = "s: reorder point, S: order-up-to, Q: lot, R: review period (periods), cap: order cap"
CRITICAL_TITLE = ", c: critical level (units kept for the tiers above the lowest)"


def _uses_critical_level(table: pd.DataFrame, prefix: str = "") -> bool:
    """True when some row of `table` has a critical level above 0."""
    k = prefix + "critical_level"
    return k in table.columns and bool((pd.to_numeric(table[k], errors="coerce") > 0).any())


def sku_table(result) -> Table:
    """The recommended plan, one row per SKU, sortable: policy, mode, service metrics (out of sample,
    with the 95 % half-width of the fill rate), inventory, cost per year by the main buckets."""
    plan = with_demand(result, result.plan)
    ppy = float(result.scenario.horizon.periods_per_year)
    cur = result.scenario.currency
    cols = [Column("SKU", lambda r: str(r["sku"])),
            Column("Class", lambda r: str(r["class"])),
            Column("Policy · parameters · mode", lambda r: f"{r.get('family', '')} {policy_text(r)} · {r.get('mode', '')}",
                   title=POLICY_TITLE + (CRITICAL_TITLE if _uses_critical_level(plan) else "")),
            Column("Demand / period", lambda r: num(r["demand_per_period"]), lambda r: r["demand_per_period"])]
    if "fill_rate" in plan.columns:
        cols.append(Column("Fill rate", lambda r: line(pct(r["fill_rate"]), *(
            (" ", styled(f"±{100 * float(r['fill_rate_ci']):.1f}", "ci")) if is_number(r.get("fill_rate_ci")) else ())),
            lambda r: r["fill_rate"], "unit fill rate, out of sample, ± 95 % half-width (points)"))
    if "cost_total" in plan.columns:
        cols.append(Column(f"Total cost / yr ({cur})", lambda r: line(b(money(r["cost_total"] * ppy, cur)), *(
            (" ", styled(f"±{money(float(r['cost_total_ci']) * ppy, cur)}", "ci")) if is_number(r.get("cost_total_ci")) else ())),
            lambda r: r["cost_total"] * ppy, "all six buckets, per year, ± 95 % half-width"))
    for bucket in ("cost_carrying", "cost_transport", "cost_shortage"):
        if bucket in plan.columns:
            cols.append(Column(f"{BUCKET_LABELS[bucket]} / yr", lambda r, k=bucket: money(r[k] * ppy, cur),
                               lambda r, k=bucket: r[k] * ppy))
    for m in ("cycle_service_level", "order_fill_rate", "on_time_rate"):
        if m in plan.columns:
            cols.append(Column(metric_label(m).capitalize(), lambda r, m=m: pct(r[m]), lambda r, m=m: r[m]))
    if "stockout_frequency" in plan.columns:
        cols.append(Column("Stockouts / period", lambda r: num(r["stockout_frequency"], 3), lambda r: r["stockout_frequency"]))
    if "avg_on_hand" in plan.columns:
        cols.append(Column("Avg on hand", lambda r: num(r["avg_on_hand"], 1), lambda r: r["avg_on_hand"], "units"))
    if has_expedite(result, plan):
        pw = period_word(result.scenario)
        mode = result.scenario.expedite.mode if getattr(result.scenario, "expedite", None) is not None else "expedite"
        cols += [Column(f"Expedited shipments / {pw}", lambda r: num(_value(r, "expedite_shipments_per_period"), 3),
                        lambda r: _value(r, "expedite_shipments_per_period"),
                        f"shipments of the expedite mode ({mode}) per period, out of sample"),
                 Column(f"Expedited units / {pw}", lambda r: num(_value(r, "expedite_units_per_period"), 2),
                        lambda r: _value(r, "expedite_units_per_period"),
                        f"units shipped to waiting customers by the expedite mode ({mode}) per period, out of sample")]
    if "demand_model" in plan.columns:
        cols.append(Column("Demand model", _model_text,
                           title="the demand model per period and the history's pattern (plan.csv demand_model, "
                                 "demand_pattern; docs/demand-from-history.md)"))
    shown, total = largest(plan, plan["cost_total"] if "cost_total" in plan.columns else pd.Series(0.0, index=plan.index))
    return table(shown, cols, "sku-table", total=total)


EXPEDITE_COLUMNS = ("expedite_shipments_per_period", "expedite_units_per_period")


def has_expedite(result, plan: pd.DataFrame) -> bool:
    """True when the run has an expedite mode (the scenario's `expedite`; plan.csv then has
    EXPEDITE_COLUMNS) and the plan carries its columns."""
    sc = getattr(result, "scenario", None)
    return (sc is None or getattr(sc, "expedite", None) is not None) and all(c in plan.columns for c in EXPEDITE_COLUMNS)


def _value(r: Row, k: str):
    v = r.get(k)
    return float(v) if is_number(v) else None


def _text(v) -> str:
    """A text cell of plan.csv ('' for a missing one: NaN when read back from the CSV)."""
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _model_text(r: Row) -> str:
    """`negbin (erratic)`: the SKU's demand model and, when the history gave one, its pattern."""
    model, pattern = _text(r.get("demand_model")) or "–", _text(r.get("demand_pattern"))
    return f"{model} ({pattern})" if pattern else model


# Demand patterns in the order of docs/demand-from-history.md; "none": a history without a sale.
PATTERN_ORDER = ("smooth", "erratic", "intermittent", "lumpy", "none")


def demand_models(result) -> pd.DataFrame | None:
    """The SKUs counted per demand pattern and demand model (plan.csv demand_pattern, demand_model,
    written when demand comes from history): pattern, model, skus, explicit (SKUs whose model the
    scenario gave), demand_share; the patterns in PATTERN_ORDER, then any other, '–' (no history
    pattern) last; then an "All" row. None when plan.csv has no such columns."""
    plan = result.plan
    if plan is None or not len(plan) or not {"demand_model", "demand_pattern"} <= set(plan.columns):
        return None
    p = with_demand(result, plan)
    p = p.assign(pattern=[_text(v) or "–" for v in p["demand_pattern"]],
                 model=[_text(v) or "–" for v in p["demand_model"]],
                 explicit=(p["demand_source"].astype(str) == "explicit") if "demand_source" in p.columns else False)
    total = float(p["demand_per_period"].sum())
    rank = {name: k for k, name in enumerate(PATTERN_ORDER)}
    rows = []
    for (pattern, model), g in p.groupby(["pattern", "model"], sort=False):
        rows.append({"pattern": pattern, "model": model, "skus": len(g), "explicit": int(g["explicit"].sum()),
                     "demand_share": float(g["demand_per_period"].sum()) / total if total > 0 else float("nan")})
    rows.sort(key=lambda r: (rank.get(r["pattern"], len(rank) + (r["pattern"] == "–")), r["pattern"], -r["skus"], r["model"]))
    rows.append({"pattern": "All", "model": "", "skus": len(p), "explicit": int(p["explicit"].sum()),
                 "demand_share": 1.0 if total > 0 else float("nan")})
    return pd.DataFrame(rows)


def demand_model_table(result) -> Table | None:
    """"Demand models": the count of SKUs per demand pattern and model (see demand_models), with the
    share of demand; None without plan.csv's demand model columns."""
    t = demand_models(result)
    if t is None:
        return None
    cols = [Column("Pattern", lambda r: b(r["pattern"]) if r["pattern"] == "All" else str(r["pattern"]),
                   title="the history's demand pattern (ADI and CV² per period); –: no history pattern"),
            Column("Demand model", lambda r: str(r["model"])),
            Column("SKUs", lambda r: str(int(r["skus"])), lambda r: r["skus"])]
    if t["explicit"].iloc[-1] > 0:
        cols.append(Column("Of which explicit", lambda r: str(int(r["explicit"])), lambda r: r["explicit"],
                           "SKUs whose demand the scenario gives (not fitted to the history)"))
    cols.append(Column("Share of demand", lambda r: pct(r["demand_share"]), lambda r: r["demand_share"]))
    return table(t, cols, "demand-models", sortable=False)


# ---------------------------------------------------------------- customer tiers (docs/tiers.md)

TIER_RATES = ("fill_rate", "order_fill_rate", "on_time_rate", "lost_sales_rate")

# One sentence per allocation rule (docs/tiers.md, "Allocation"), after "Allocation <rule>: ".
ALLOCATION_TEXT = {
    "fifo": "first come, first served: one backorder queue, oldest first, and every order is served from any stock "
            "on hand, whatever its tier.",
    "priority": "one queue per tier; on every receipt the top tier's waiting orders are served first (oldest first), "
                "then the next tier's, and so on, while new orders are served as they come.",
    "critical_level": "as priority, and a lower tier's order is served only from the units on hand above its "
                      "critical level (0 for the top tier, the policy's c for the lowest, the tiers between spread "
                      "evenly): the units at or below it are kept for the tiers above.",
}


@dataclass(frozen=True)
class TierSection:
    """The report's "Service by customer tier": the allocation rule in one sentence, the tiers'
    demand-weighted figures (`table`, from summary["tiers"]) and each SKU's fill rate per tier
    (`skus`, from result.tiers, capped like the other per-SKU tables and ordered by `cost_by`)."""

    allocation: Line
    table: Table | None
    skus: Table | None
    cost_by: str = "the highest total cost per year"
    saving: Line | None = None  # what the allocation rule saves against FIFO (summary allocation_comparison)
    demand: Line | None = None  # where each tier's demand comes from (tiers.csv demand_model)


def tier_frame(result) -> pd.DataFrame | None:
    """result.tiers (one row per SKU and tier) when the run has it, else None. Read with getattr: a
    Result from before customer tiers has no such attribute."""
    frame = getattr(result, "tiers", None)
    if not isinstance(frame, pd.DataFrame) or not len(frame) or not {"sku", "tier"} <= set(frame.columns):
        return None
    return frame


def tier_summary(result) -> list[dict]:
    """summary["tiers"] (top tier first), only its well-formed entries; [] when there is none."""
    rows = get(result.summary, "tiers")
    if not isinstance(rows, list):
        return []
    return [r for r in rows if isinstance(r, dict) and r.get("tier") is not None]


def _scenario_tiers(result):
    sc = getattr(result, "scenario", None)
    return getattr(sc, "customer_tiers", None) if sc is not None else None


def tier_names(result) -> list[str]:
    """The tiers' names, the top tier first: summary["tiers"]' order, then the scenario's, then any
    other tier of result.tiers in the order it comes."""
    names = [str(r["tier"]) for r in tier_summary(result)]
    ct = _scenario_tiers(result)
    if ct is not None:
        names += [t.name for t in ct.tiers]
    frame = tier_frame(result)
    if frame is not None:
        names += [str(t) for t in pd.unique(frame["tier"])]
    return list(dict.fromkeys(names))


def allocation(result) -> str | None:
    """The allocation rule in force (fifo, priority or critical_level): summary["tiers"]' own, else the
    scenario's; None when neither says."""
    for r in tier_summary(result):
        if r.get("allocation") in ALLOCATION_TEXT:
            return str(r["allocation"])
    ct = _scenario_tiers(result)
    a = getattr(ct, "allocation", None)
    return a if a in ALLOCATION_TEXT else None


def allocation_text(result) -> Line:
    """"Allocation `critical_level`: as priority, and …" (an empty Line when the rule is unknown)."""
    a = allocation(result)
    return line("Allocation ", code(a), ": " + ALLOCATION_TEXT[a]) if a else Line()


def _floor_met(r: Row) -> str | Span:
    met = r.get("floor_met")
    if isinstance(met, bool | np.bool_):
        return styled("✔ met", "good") if met else styled("✘ missed", "bad")
    return "–"


def tier_table(result) -> Table | None:
    """summary["tiers"] as a table, the top tier first: demand per period, fill rate, order fill rate,
    on-time rate, lost-sales rate (demand-weighted over SKUs, out of sample), shortage cost per year,
    the tier's floor (on service.metric) and whether the plan meets it. None without tiers."""
    rows = tier_summary(result)
    if not rows:
        return None
    t = pd.DataFrame(rows)
    ppy = float(result.scenario.horizon.periods_per_year)
    cur = result.scenario.currency
    metric = metric_label(get(result.summary, "service", "metric", default=result.scenario.service.metric))

    def g(r, k):
        v = r.get(k)
        return float(v) if is_number(v) else None

    cols = [Column("Tier", lambda r: b(r["tier"])),
            Column("Demand / period", lambda r: num(g(r, "demand_per_period")), lambda r: g(r, "demand_per_period"),
                   "units per period, all SKUs")]
    for m in TIER_RATES:
        label = "Lost-sales rate" if m == "lost_sales_rate" else metric_label(m).capitalize()
        cols.append(Column(label, lambda r, m=m: pct(g(r, m)), lambda r, m=m: g(r, m)))
    cols += [Column(f"Shortage cost / yr ({cur})", lambda r: money(per(g(r, "cost_shortage"), ppy), cur),
                    lambda r: per(g(r, "cost_shortage"), ppy), "the tier's lost sales, goodwill and lost customers"),
             Column(f"Floor ({metric})", lambda r: pct(g(r, "floor")), lambda r: g(r, "floor"),
                    f"the tier's floor on its demand-weighted {metric} (customer_tiers.tiers[].floor)"),
             Column("Floor met", _floor_met, title="out of sample")]
    return table(t, cols, "tier-table", sortable=False)


def tier_sku_table(result) -> tuple[Table, str] | None:
    """Each SKU's fill rate per tier (out of sample): the SKU, then one column per tier, the top tier
    first; the REPORT_ROWS_MAX SKUs of highest total cost per year when there are more (highest shortage
    cost when the plan has no total cost). With the words of that order for the capped note; None
    without result.tiers."""
    frame = tier_frame(result)
    if frame is None or "fill_rate" not in frame.columns:
        return None
    present = {str(t) for t in frame["tier"]}
    names = [n for n in tier_names(result) if n in present]
    rate = {(str(s), str(t)): v for s, t, v in zip(frame["sku"], frame["tier"], frame["fill_rate"])}
    skus = list(dict.fromkeys(str(s) for s in frame["sku"]))
    wide = pd.DataFrame({"sku": skus})
    for k, name in enumerate(names):
        wide[f"t{k}"] = [rate.get((s, name), np.nan) for s in skus]
    plan = result.plan
    if plan is not None and "cost_total" in plan.columns and "sku" in plan.columns:
        by = "the highest total cost per year"
        cost = wide["sku"].map(dict(zip(plan["sku"].astype(str), pd.to_numeric(plan["cost_total"], errors="coerce"))))
    elif "cost_shortage" in frame.columns:
        by = "the highest shortage cost per year"
        cost = wide["sku"].map(pd.to_numeric(frame["cost_shortage"], errors="coerce").groupby(frame["sku"].astype(str)).sum())
    else:
        by, cost = "", pd.Series(0.0, index=wide.index)

    def val(r, k):
        return r[k] if is_number(r[k]) else None

    cols = [Column("SKU", lambda r: str(r["sku"]))]
    cols += [Column(f"Fill rate: {name}", lambda r, k=f"t{k}": pct(val(r, k)), lambda r, k=f"t{k}": val(r, k),
                    f"unit fill rate of tier {name}'s orders, out of sample") for k, name in enumerate(names)]
    shown, total = largest(wide, cost.astype(float))
    return table(shown, cols, "tier-sku-table", total=total), by


def tier_section(result) -> TierSection | None:
    """The report's customer-tier section, or None when the run has no customer tiers."""
    summary_table = tier_table(result)
    per_sku = tier_sku_table(result)
    if summary_table is None and per_sku is None:
        return None
    skus, by = per_sku if per_sku is not None else (None, "")
    return TierSection(allocation_text(result), summary_table, skus, by, saving_text(result), demand_text(result))


def demand_text(result) -> Line | None:
    """Where each tier's demand comes from, from tiers.csv's demand_model: for the SKUs whose tiers
    have their own models, the count of SKUs per tier and model; for the others, the SKU's demand
    split by the tier shares. None when the table has no such column (a run from before it)."""
    frame = tier_frame(result)
    if frame is None or "demand_model" not in frame.columns:
        return None
    models = frame["demand_model"].astype(str)
    thinned = frame.loc[models == "thinned", "sku"].astype(str).nunique()
    own = frame.loc[models != "thinned", "sku"].astype(str).nunique()
    split = ("the SKU's demand split by the tier's share of its orders (", code("customer_tiers.demand: thinned"),
             ", or no tier models for these SKUs)")
    if not own:
        return line("Each tier's demand is ", *split, ".")
    counts = []
    for name in tier_names(result):
        mine = models[(frame["tier"].astype(str) == name) & (models != "thinned")].value_counts()
        counts.append(f"{name}: " + ", ".join(f"{m} on {n} SKU{'s' if n != 1 else ''}" for m, n in mine.items()))
    parts = [f"For {own} SKU{'s' if own != 1 else ''}, each tier's demand is its own model, fitted to its customers' "
             "sales or given in ", code("skus[].tier_demand"), " (", "; ".join(counts), "; tiers.csv ",
             code("demand_model"), ")"]
    if thinned:
        parts += [f"; for {thinned} SKU{'s' if thinned != 1 else ''} it is ", *split]
    return line(*parts, ".")


def saving_text(result) -> Line | None:
    """What the scenario's allocation rule saves against FIFO, from summary["allocation_comparison"]
    (the same scenario planned with FIFO): both costs per year and the difference; None without it."""
    comp = get(result.summary, "allocation_comparison", default=None)
    if not isinstance(comp, dict) or result.scenario is None:
        return None
    ppy = float(result.scenario.horizon.periods_per_year)
    cur = result.scenario.currency
    used = comp.get("allocation_used")
    if comp.get("status") != "optimal":
        return line("With FIFO allocation (every tier served alike) the same rules cannot be met; ",
                    code(str(used)), " meets them.")
    fifo, cost, saving = (per(comp.get(k), ppy) for k in ("cost_per_period", "cost_per_period_used", "saving_per_period"))
    fills = ", ".join(f"{t.get('tier')} {pct(t.get('fill_rate'))}" for t in comp.get("tiers") or [] if isinstance(t, dict))
    share = saving / fifo if is_number(saving) and is_number(fifo) and fifo else None
    return line("Against FIFO allocation: the same scenario planned with every tier served alike costs ",
                money(fifo, cur), " per year (fill rate by tier: ", fills, "); with ", code(str(used)), " it costs ",
                money(cost, cur), ": ", b(f"{money(saving, cur)} per year saved ({pct(share)})" if not is_number(saving)
                                          or saving >= 0 else f"{money(-saving, cur)} per year more ({pct(-share)})"),
                ". Both plans meet the same rules; costs out of sample.")


def audit_table(result) -> Table:
    """Current vs recommended per SKU, sortable: policies, the service metric on both sides, cost per
    year on both sides and the saving (positive: the plan is cheaper). SKUs without a current policy
    stay in the table, marked."""
    a = with_demand(result, result.audit)
    metric = get(result.summary, "service", "metric", default=result.scenario.service.metric)
    ppy = float(result.scenario.horizon.periods_per_year)
    cur = result.scenario.currency
    name = metric_label(metric)

    def current(r):
        if "has_current_policy" in r and not bool(r["has_current_policy"]):
            return styled(r.get("note") or "no current policy", "muted")
        return f"{r.get('current_family', '')} {policy_text(r, 'current_')} · {r.get('current_mode', '')}"

    def val(r, k):
        return r[k] if k in r and is_number(r[k]) else None

    cols = [Column("SKU", lambda r: str(r["sku"])), Column("Class", lambda r: str(r["class"])),
            Column("Current policy", current),
            Column("Recommended policy", lambda r: f"{r.get('recommended_family', '')} {policy_text(r, 'recommended_')} · "
                                                   f"{r.get('recommended_mode', '')}"),
            Column(f"Current {name}", lambda r: pct(val(r, f"current_{metric}")), lambda r: val(r, f"current_{metric}")),
            Column(f"Recommended {name}", lambda r: pct(val(r, f"recommended_{metric}")),
                   lambda r: val(r, f"recommended_{metric}")),
            Column(f"Current cost / yr ({cur})", lambda r: money(per(val(r, "current_cost_total"), ppy), cur),
                   lambda r: per(val(r, "current_cost_total"), ppy)),
            Column(f"Recommended cost / yr ({cur})", lambda r: money(per(val(r, "recommended_cost_total"), ppy), cur),
                   lambda r: per(val(r, "recommended_cost_total"), ppy)),
            Column(f"Saving / yr ({cur})", lambda r: _saving(per(val(r, "saving"), ppy), cur),
                   lambda r: per(val(r, "saving"), ppy), "current minus recommended cost; positive: the plan is cheaper")]
    # The largest current costs first when capped: where today's policy costs most.
    cost = pd.to_numeric(a["current_cost_total"], errors="coerce") if "current_cost_total" in a.columns \
        else pd.Series(0.0, index=a.index)
    shown, total = largest(a, cost)
    return table(shown, cols, "audit-table", total=total)


def per(x, ppy):
    """Per period -> per year; None stays None."""
    return None if x is None or not is_number(x) else float(x) * ppy


def _saving(x, cur) -> str | Span:
    """A saving per year: green when the plan is cheaper, orange when it costs more."""
    if x is None:
        return "–"
    text = money(x, cur, sign=True)
    return styled(text, "good") if x > 0 else (styled(text, "bad") if x < 0 else text)


def frontier_table(result) -> Table:
    """The frontier (exchange curve) as numbers: target, achieved, total and logistics cost per year,
    marginal cost per extra point per year, implied value of a lost unit; the cost-optimal row marked."""
    f = result.frontier.sort_values("achieved", kind="stable")
    ppy = float(result.scenario.horizon.periods_per_year)
    cur = result.scenario.currency

    def level(r):
        return b("cost-optimal") if bool(r.get("cost_optimal", False)) else pct(r.get("target"))

    def g(r, k):
        return r[k] if k in r and is_number(r[k]) else None

    cols = [Column("Target", level), Column("Achieved", lambda r: pct(g(r, "achieved")), lambda r: g(r, "achieved")),
            Column(f"Total cost / yr ({cur})", lambda r: money(per(g(r, "cost_total"), ppy), cur), lambda r: per(g(r, "cost_total"), ppy)),
            Column(f"Logistics cost / yr ({cur})", lambda r: money(per(g(r, "cost_logistics"), ppy), cur),
                   lambda r: per(g(r, "cost_logistics"), ppy), "all buckets but lost sales & shortage"),
            Column(f"Lost sales & shortage / yr ({cur})", lambda r: money(per(g(r, "cost_shortage"), ppy), cur),
                   lambda r: per(g(r, "cost_shortage"), ppy)),
            Column(f"Marginal cost / extra point / yr ({cur})", lambda r: money(per(g(r, "marginal_cost"), ppy), cur, sign=True),
                   lambda r: per(g(r, "marginal_cost"), ppy), "extra logistics cost per extra point of service vs the row before"),
            Column(f"Implied value of a lost unit ({cur})", lambda r: money(g(r, "implied_shortage_cost"), cur),
                   lambda r: g(r, "implied_shortage_cost"), "the cost per unit short that makes this target cost-optimal")]
    return table(f, cols, "frontier-table", sortable=False)


def provenance(result) -> list[tuple[str, str]]:
    """The run's provenance as (label, text) pairs: scenario, hash, seeds, engine, replications,
    candidates, solver status, timings, versions. Missing entries are left out."""
    s = result.summary or {}
    sc = result.scenario
    items: list[tuple[str, str]] = [("Scenario", sc.name)]
    if sc.description:
        items.append(("Description", sc.description))
    variants = get(s, "scenario", "variants")
    if variants:
        items.append(("Variants", ", ".join(map(str, variants))))
    for label, keys in (("Scenario hash", ("scenario_hash",)), ("Seed", ("seed",)), ("Engine", ("engine",)),
                        ("Replications (selection)", ("replications",)),
                        ("Verification seed", ("verification", "seed")),
                        ("Verification replications", ("verification", "replications")),
                        ("Candidates simulated", ("candidates",)), ("Refine rounds", ("refine_rounds",)),
                        ("Solver status", ("solver", "status")), ("Solver method", ("solver", "method")),
                        ("Solver gap", ("solver", "gap"))):
        v = get(s, *keys)
        v = plain(v)  # enums (solver status) by their value
        if v is not None and v != "":
            items.append((label, f"{v:.3g}" if isinstance(v, float) else str(v)))
    items.append(("Money", f"{sc.currency}; the engine works per period, the report shows per year "
                           f"(× {sc.horizon.periods_per_year:g} periods per year)"))
    items.append(("Horizon", f"{sc.horizon.periods:g} periods counted after {sc.horizon.warmup:g} warm-up periods"))
    timings = get(s, "timings")
    if isinstance(timings, dict) and timings:
        items.append(("Timings (s)", ", ".join(f"{k} {float(v):.2f}" for k, v in timings.items() if is_number(v))))
    versions = get(s, "versions")
    if isinstance(versions, dict) and versions:
        items.append(("Versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v)))
    missed = get(s, "service", "rules_missed")
    if missed:
        items.append(("Rules missed out of sample", ", ".join(map(str, missed))))
    return items


def rules(result) -> list[Line]:
    """The service rules checked out of sample, one line each with a met / missed mark ([] if none);
    SKU floors that are met are counted in one line, not listed."""
    checked = get(result.summary, "service", "rules")
    if not isinstance(checked, list) or not checked:
        return []
    items = []
    per_sku = [r for r in checked if isinstance(r, dict) and str(r.get("rule", "")).startswith("service.sku_floor")]
    for r in checked:
        if not isinstance(r, dict) or (r in per_sku and r.get("met")):
            continue
        mark = styled("✔ met", "good") if r.get("met") else styled("✘ missed", "bad")
        if r.get("kind") == "limit":  # a limit holds money, units or vehicles, and is a ceiling
            items.append(line(mark, " ", code(r.get("rule", "")), f": {r.get('metric', '')} "
                              f"{num(r.get('achieved'))} against a limit of {num(r.get('required'))}"))
            continue
        items.append(line(mark, " ", code(r.get("rule", "")), f": {metric_label(str(r.get('metric', '')))} "
                          f"{pct(r.get('achieved'))} against {pct(r.get('required'))}"))
    met_skus = sum(1 for r in per_sku if r.get("met"))
    if met_skus:
        items.append(line(styled("✔ met", "good"), " ", code("service.sku_floor"), f" for {met_skus} of {len(per_sku)} SKUs"))
    return items


def tightening(result) -> Line:
    """One sentence when the plan was chosen at tightened levels (tradeoff/tightening.py): which
    rules, at which level, so that the plan's point above the in-sample curve is explained (an empty
    Line if not)."""
    rounds = get(result.summary, "verification", "tightening")
    kept = [r for r in rounds if isinstance(r, dict) and r.get("kept")] if isinstance(rounds, list) else []
    if not kept:
        return Line()
    required_rules = {c.get("rule"): c for c in get(result.summary, "service", "rules") or [] if isinstance(c, dict)}
    moved: list = []
    for rule, level in sorted(kept[-1].get("levels", {}).items()):
        required = required_rules.get(rule, {}).get("required")
        if not is_number(required) or abs(float(level) - float(required)) < 1e-12:
            continue
        shown = pct(level) if required_rules[rule].get("kind") != "limit" else num(level)
        moved += [", " if moved else "", code(rule), f" at {shown}"]
    if not moved:
        return Line()
    return line("The first plan missed rules on fresh demand (the selection favours candidates whose simulated "
                "service came out high), so the plan was chosen again with ", *moved,
                ". The figures above are those of that plan on fresh demand.")


def bucket_totals(table: pd.DataFrame, ppy: float, prefix: str = "") -> dict[str, float]:
    """Sum over rows of each cost bucket column (`prefix` + bucket), per year, keyed by bucket name."""
    return {b: float(table[prefix + b].astype(float).sum()) * ppy for b in BUCKETS if prefix + b in table.columns}
