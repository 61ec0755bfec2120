"""report.html: the headline computed from the data, money annualised, self-contained, robust to
missing summary keys. The synthetic result (test_report_synthetic.py) is built on a closed-form
exchange curve, so the right answers are known without the report code."""

from __future__ import annotations

import math
import re

import pytest

from test_report_synthetic import A, B, PPY, SKUS, optimum, synthetic_result
from tradeoff.report import render_report
from tradeoff.report.format import money, pct
from tradeoff.report.headline import headline
from tradeoff.report.page import environment
from tradeoff.report.tables import class_metrics, class_service_rows


def shown(line) -> str:
    """A rich-text line (a headline sentence, a rule) as the page writes it: the templates' own macro."""
    return str(environment().get_template("macros.html.j2").module.rich(line))


@pytest.fixture(scope="module")
def result():
    return synthetic_result()


@pytest.fixture(scope="module")
def page(result):
    return render_report(result)


def test_headline_cost_optimal_point_is_the_analytic_optimum(result):
    x_opt, cost_opt = optimum()  # minimum of A/(1-x) + B(1-x)
    h = headline(result)
    assert h.optimal_level == pytest.approx(x_opt, abs=1e-12)
    assert h.optimal_cost == pytest.approx(cost_opt * PPY, rel=1e-12)  # per year, not per period
    assert f"Cost-optimal fill rate <b>{pct(x_opt)}</b>" in shown(h.sentences[0])
    assert money(cost_opt * PPY, "EUR", compact=True) in h.sentences[0].text


def test_headline_target_extra_cost_implied_value_and_margin(result):
    h = headline(result)
    s = result.summary
    # the target's extra cost: the chosen plan in sample minus the cost-optimal point, per year
    extra = (s["totals_in_sample"]["cost_total"] - 2 * math.sqrt(A * B)) * PPY
    assert h.extra_cost == pytest.approx(extra)
    # demand-weighted margin, by hand from the SKU table
    margin = sum((p - c) * d for _, c, p, _, d, _ in SKUS) / sum(d for *_, d, _ in SKUS)
    assert h.margin == pytest.approx(margin)
    text = shown(h.sentences[1])
    assert "Your target <b>98.0 %</b>" in text and "than the cost-optimal point" in text
    assert f"costs <b>{money(extra, 'EUR', compact=True)} more per year</b>" in text
    assert f"value a lost unit at <b>{money(s['implied_shortage_cost'], 'EUR')}</b>" in text
    assert f"against a margin of <b>{money(margin, 'EUR')}</b>" in text


def test_headline_without_target_says_cost_optimal():
    r = synthetic_result(target=None, with_audit=False)
    h = headline(r)
    assert h.target is None and h.audit is None
    assert any("No service target" in s.text for s in h.sentences)
    assert not any("Your target" in s.text for s in h.sentences)


def test_audit_saving_annualised_in_headline_and_page(result, page):
    a = result.audit[result.audit["has_current_policy"]]
    saving_year = float((a["current_cost_total"] - a["recommended_cost_total"]).sum()) * PPY
    h = headline(result)
    assert any(f"saving <b>{money(saving_year, 'EUR', compact=True)} per year</b>" in shown(s) for s in h.sentences)
    # SKUs without a current policy are named, not dropped
    assert "no current policy in the scenario" in page
    assert "B-2, C-2" in page


def test_class_metrics_are_demand_weighted(result):
    cm = class_metrics(result)
    p = result.plan
    for cls in ("A", "B", "C"):
        g = p[p["class"] == cls]
        w = g["demand_per_period"]
        assert cm.loc[cls, "fill_rate"] == pytest.approx(float((g["fill_rate"] * w).sum() / w.sum()))
        assert cm.loc[cls, "order_cycle_sd"] == pytest.approx(float((g["order_cycle_sd"] * w).sum() / w.sum()))
        assert cm.loc[cls, "cost_per_year"] == pytest.approx(float(g["cost_total"].sum()) * PPY)
    assert cm.loc["All", "fill_rate"] == pytest.approx(result.summary["metrics"]["fill_rate"])
    assert cm["demand_share"].drop("All").sum() == pytest.approx(1.0)
    rows = class_service_rows(result)
    a = result.audit[result.audit["has_current_policy"]]
    d = a["sku"].map(dict(zip(p["sku"], p["demand_per_period"])))
    assert rows.loc["All", "current"] == pytest.approx(float((a["current_fill_rate"] * d).sum() / d.sum()))


def test_page_is_self_contained_and_has_every_section(page):
    assert page.startswith("<!doctype html>")
    # nothing to fetch: no external scripts, styles, images or fonts (the SVG namespace is not a fetch)
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)=', page)
    assert "@import" not in page and "url(http" not in page
    fetches = re.findall(r'(?:src|href)="(https?:[^"]*)"', page)
    assert fetches == []
    for chart in ("exchange-curve", "cost-breakdown", "class-service"):
        assert page.count(f'data-chart="{chart}"') == 1
    for table in ("class-metrics", "audit-table", "sku-table", "frontier-table"):
        assert f'id="{table}"' in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids must be unique across the inlined charts"
    assert "per year" in page and "Cost per year (EUR)" in page
    assert "0123456789abcdef" in page  # provenance: scenario hash
    assert "service.floors.C" in page  # a rule missed out of sample is shown


def test_sku_table_sort_values_are_money_per_year(result, page):
    table = page[page.index('id="sku-table"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    heads = re.findall(r"<th[^>]*>(.*?)</th>", rows[0])
    k = next(i for i, h in enumerate(heads) if h.startswith("Total cost / yr"))
    assert len(rows) - 1 == len(result.plan)
    for row, (_, r) in zip(rows[1:], result.plan.iterrows()):
        cell = re.findall(r"<td[^>]*>", row)[k]
        assert float(re.search(r'data-v="([^"]+)"', cell).group(1)) == pytest.approx(r["cost_total"] * PPY, rel=1e-9)


def test_same_result_renders_the_same_bytes(result, page):
    assert render_report(result) == page


def test_missing_summary_keys_leave_lines_out():
    r = synthetic_result(with_audit=False)
    r.summary = {"service": {"metric": "fill_rate"}}
    html = render_report(r)
    h = headline(r)
    assert h.achieved is None and h.cost is None and h.implied_shortage_cost is None
    assert "Re-simulated" not in html and "Solver status" not in html
    assert 'data-chart="exchange-curve"' in html  # the frontier still draws
    r.summary = {}
    r.frontier = r.frontier.drop(columns=["marginal_cost", "implied_shortage_cost", "cost_optimal"])
    html = render_report(r)
    assert "Cost-optimal fill rate" not in html and 'data-chart="exchange-curve"' in html


def test_currency_and_periods_per_year_follow_the_scenario():
    r = synthetic_result(currency="CNY")
    h = headline(r)
    assert "¥" in h.sentences[0].text
    from tradeoff.report.tables import class_table, frontier_table

    assert "Cost per year (CNY)" in [c.label for c in class_table(r).headers]
    totals = [c.content.text for c in frontier_table(r).column("Total cost / yr")]
    assert f"¥{r.frontier['cost_total'].max() * PPY:,.0f}" in totals  # annualised, in yuan


@pytest.mark.parametrize("value,expected", [(1234567.0, "€1.23 M"), (45678.0, "€45.7 k"), (-250.0, "−€250"),
                                             (float("nan"), "–"), (None, "–")])
def test_money_format(value, expected):
    assert money(value, "EUR", compact=True) == expected


def test_without_target_the_headline_prices_settling_for_less():
    r = synthetic_result(target=None, with_audit=False)
    x_opt, _ = optimum()
    saved = (A / (1 - x_opt) - A / (1 - 0.95)) * PPY   # logistics saved at 95 %, the level below x*
    lost = (B * (1 - 0.95) - B * (1 - x_opt)) * PPY    # lost sales and shortage added
    text = " ".join(s.text for s in headline(r).sentences)
    assert (f"Settling for 95.0 % fill rate would save {money(saved, 'EUR', compact=True)} per year in logistics "
            f"but lose {money(lost, 'EUR', compact=True)}") in text
    assert f"{money(lost - saved, 'EUR', compact=True)} more per year in total" in text


def test_provenance_shows_enum_values():
    import enum

    from tradeoff.report.tables import provenance

    class Status(str, enum.Enum):  # like optimizer's SolveStatus
        OPTIMAL = "optimal"

    r = synthetic_result(with_audit=False)
    r.summary = dict(r.summary, solver={"status": Status.OPTIMAL})
    assert ("Solver status", "optimal") in provenance(r)


def test_target_below_the_cost_optimal_level_is_called_out():
    r = synthetic_result(target=0.95, with_audit=False)
    x_opt, cost_opt = optimum()
    extra = (r.summary["totals_in_sample"]["cost_total"] - cost_opt) * PPY
    text = " ".join(s.text for s in headline(r).sentences)
    assert f"is below the cost-optimal level ({pct(x_opt)})" in text
    assert f"{money(extra, 'EUR', compact=True)} more per year" in text
    assert "value a lost unit" not in text


def test_sku_floor_rules_met_are_counted_missed_are_listed():
    from tradeoff.report.tables import rules

    r = synthetic_result(with_audit=False)
    checked = [{"rule": f"service.sku_floor[S{i}]", "metric": "fill_rate", "required": 0.9,
                "achieved": 0.85 if i == 3 else 0.95, "met": i != 3} for i in range(40)]
    r.summary = dict(r.summary, service=dict(r.summary["service"], rules=checked))
    items = [shown(item) for item in rules(r)]
    assert len(items) == 2
    assert "<code>service.sku_floor[S3]</code>" in items[0] and "for 39 of 40 SKUs" in items[1]


def test_limit_rules_show_plain_numbers_not_percentages():
    """A limit (inventory budget in money, capacity in units) is not a service level: no % sign."""
    from types import SimpleNamespace

    from tradeoff.report.tables import rules

    summary = {"service": {"rules": [
        {"rule": "budget.inventory_value", "metric": "inventory_value", "required": 250000.0,
         "achieved": 180000.0, "met": True, "kind": "limit"},
        {"rule": "service.target", "metric": "fill_rate", "required": 0.95, "achieved": 0.962, "met": True,
         "kind": "service"},
    ]}}
    items = [item.text for item in rules(SimpleNamespace(summary=summary))]
    limit_item = [li for li in items if "budget.inventory_value" in li][0]
    assert "%" not in limit_item and "limit of" in limit_item
    target_item = [li for li in items if "service.target" in li][0]
    assert "96.2" in target_item and "%" in target_item
