"""report.html's "Service by customer tier" (docs/tiers.md): shown only when the run has customer tiers
(result.tiers, summary["tiers"]); the tiers' figures formatted as the rest of the report (shares as
"97.5 %", money per year with the currency sign); each SKU's fill rate per tier, capped like the other
per-SKU tables; user text (SKU ids) escaped; the policy text shows a critical level as `c 12`.

The Result is the synthetic one of test_report_synthetic.py with the tier tables built by hand here
(the run's own `tiers` attribute may not exist yet: the report reads it with getattr)."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.schema import CustomerTiers
from tradeoff.report import render_report, tables
from tradeoff.report.format import money
from tradeoff.result import Result

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_synthetic import PPY, synthetic_result  # noqa: E402

TIERS = ("key", "medium", "small")
SHARES = {"key": 0.3, "medium": 0.5, "small": 0.2}
# summary["tiers"]: per period; the report shows cost_shortage x PPY (364) per year.
SUMMARY_TIERS = [
    {"tier": "key", "demand_per_period": 26.7, "fill_rate": 0.9952, "order_fill_rate": 0.991, "on_time_rate": 0.987,
     "lost_sales_rate": 0.0011, "cost_shortage": 2.5, "floor": 0.99, "floor_met": True, "allocation": "critical_level"},
    {"tier": "medium", "demand_per_period": 44.5, "fill_rate": 0.9751, "order_fill_rate": 0.962, "on_time_rate": 0.958,
     "lost_sales_rate": 0.0123, "cost_shortage": 40.0, "floor": 0.98, "floor_met": False, "allocation": "critical_level"},
    {"tier": "small", "demand_per_period": 17.8, "fill_rate": 0.9405, "order_fill_rate": 0.921, "on_time_rate": 0.915,
     "lost_sales_rate": 0.0302, "cost_shortage": 0.1234, "floor": None, "floor_met": None, "allocation": "critical_level"},
]
TIER_COLUMNS = ["demand_per_period", "fill_rate", "order_fill_rate", "order_cycle_mean", "order_cycle_sd",
                "on_time_rate", "backorder_rate", "substitution_rate", "lost_sales_rate", "customers_lost",
                "cost_shortage"]


def tier_rows(plan: pd.DataFrame, skip: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """result.tiers in long form: one row per (SKU, tier), the fill rate of tier k = the SKU's fill rate
    + 0.01 - 0.02 k; (sku, tier) pairs in `skip` left out (a tier that does not buy the SKU)."""
    rows = []
    for _, p in plan.iterrows():
        for k, name in enumerate(TIERS):
            if (p["sku"], name) in skip:
                continue
            row = {"sku": p["sku"], "tier": name}
            for m in TIER_COLUMNS:
                row[m] = 0.0
            row.update(demand_per_period=SHARES[name] * p["demand_per_period"],
                       fill_rate=min(1.0, p["fill_rate"] + 0.01 - 0.02 * k),
                       cost_shortage=p["cost_shortage"] * SHARES[name])
            rows.append(row)
    return pd.DataFrame(rows)


class Tiered(Result):
    """A Result whose `tiers` is a plain attribute the test sets (whatever Result.tiers reads from)."""

    tiers = None


class BeforeTiers(Result):
    """A Result from before the `tiers` attribute: asking for it raises AttributeError."""

    @property
    def tiers(self):
        raise AttributeError("tiers")


def as_class(result: Result, cls: type) -> Result:
    result.__class__ = cls
    return result


def tiered_result(allocation: str = "critical_level", skip: tuple[tuple[str, str], ...] = (("C-2", "key"),)):
    """The synthetic Result with customer tiers: result.tiers, summary["tiers"] and critical levels in
    the plan."""
    result = as_class(synthetic_result(), Tiered)
    result.plan = result.plan.assign(critical_level=[12.0, 0.0, 3.0, np.nan, 0.0, 1.5])
    result.tiers = tier_rows(result.plan, skip)
    result.summary["tiers"] = [dict(r, allocation=allocation) for r in SUMMARY_TIERS]
    return result


class Page(HTMLParser):
    """The page's script elements, its <h2> texts and the cells' text of the table with id `table_id`."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.scripts, self.h2, self.rows, self.headers = table_id, 0, [], [], []
        self._in_table = self._in_h2 = self._in_cell = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        elif tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        elif tag == "table" and a.get("id") == self.table_id:
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._in_cell = tag
            (self.headers if tag == "th" else self.rows[-1]).append("")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        elif tag == "table":
            self._in_table = False
        elif tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data
        if self._in_cell == "th":
            self.headers[-1] += data
        elif self._in_cell == "td":
            self.rows[-1][-1] += data


def parse(page: str, table_id: str) -> Page:
    p = Page(table_id)
    p.feed(page)
    p.rows = [r for r in p.rows if r]  # the header row has no <td>
    return p


# ---------------------------------------------------------------- shown with tiers, not without


def test_the_section_appears_with_tiers_after_the_class_metrics():
    page = render_report(tiered_result())
    h2 = parse(page, "tier-table").h2
    assert "Service by customer tier" in h2
    assert h2.index("Service by customer tier") == h2.index("Service metrics by class") + 1
    assert 'id="tier-table"' in page and 'id="tier-sku-table"' in page


def test_no_section_without_tiers():
    result = as_class(synthetic_result(), BeforeTiers)
    assert not hasattr(result, "tiers")  # a Result from before the attribute: read with getattr
    page = render_report(result)
    assert "Service by customer tier" not in page and 'id="tier-table"' not in page
    assert "Service by customer tier" not in render_report(synthetic_result())  # Result as it is today
    result = as_class(result, Tiered)
    result.tiers = None  # the attribute as it is for a scenario without customer_tiers
    result.summary["tiers"] = None
    page = render_report(result)
    assert "Service by customer tier" not in page and 'id="tier-table"' not in page and 'id="tier-sku-table"' not in page
    result.tiers = pd.DataFrame(columns=["sku", "tier", "fill_rate"])
    result.summary["tiers"] = []
    assert "Service by customer tier" not in render_report(result)
    assert tables.tier_section(result) is None


def test_summary_only_or_per_sku_only():
    result = tiered_result()
    result.tiers = None
    page = render_report(result)
    assert "Service by customer tier" in page and 'id="tier-table"' in page and 'id="tier-sku-table"' not in page
    result = tiered_result()
    del result.summary["tiers"]
    page = render_report(result)
    assert "Service by customer tier" in page and 'id="tier-sku-table"' in page and 'id="tier-table"' not in page


# ---------------------------------------------------------------- the tiers' table


def test_the_tier_table_rows_top_tier_first_formatted_as_the_report():
    page = parse(render_report(tiered_result()), "tier-table")
    assert page.headers == ["Tier", "Demand / period", "Fill rate", "Order fill rate", "On-time rate",
                            "Lost-sales rate", "Shortage cost / yr (EUR)", "Floor (fill rate)", "Floor met"]
    key, medium, small = page.rows
    assert key == ["key", "26.70", "99.5 %", "99.1 %", "98.7 %", "0.1 %", "€910", "99.0 %", "✔ met"]
    assert medium == ["medium", "44.50", "97.5 %", "96.2 %", "95.8 %", "1.2 %", "€14,560", "98.0 %", "✘ missed"]
    # 0.1234 per period x 364 = 44.92 per year; no floor: dashes
    assert small == ["small", "17.80", "94.0 %", "92.1 %", "91.5 %", "3.0 %", "€44.92", "–", "–"]


def test_the_tier_table_sort_values_are_the_raw_figures_per_year():
    t = tables.tier_table(tiered_result())
    assert not t.sortable  # the top tier first, like the class table
    cost = [float(c.sort) for c in t.column("Shortage cost")]
    assert cost == pytest.approx([r["cost_shortage"] * PPY for r in SUMMARY_TIERS])
    assert [c.sort for c in t.column("Floor (")] == ["0.99", "0.98", None]
    assert [c.content.spans[0].style for c in t.column("Floor met")] == ["good", "bad", ""]


def test_the_floor_is_on_the_service_metric():
    result = tiered_result()
    result.summary["service"]["metric"] = "order_fill_rate"
    page = render_report(result)
    assert parse(page, "tier-table").headers[7] == "Floor (order fill rate)"


def test_missing_figures_show_a_dash():
    result = tiered_result()
    result.summary["tiers"] = [{"tier": "key", "fill_rate": None}, {"tier": "small", "fill_rate": float("nan")}]
    rows = parse(render_report(result), "tier-table").rows
    assert rows == [["key"] + ["–"] * 8, ["small"] + ["–"] * 8]


# ---------------------------------------------------------------- the allocation rule


@pytest.mark.parametrize("rule, words", [
    ("fifo", "first come, first served: one backorder queue, oldest first"),
    ("priority", "one queue per tier; on every receipt the top tier's waiting orders are served first"),
    ("critical_level", "as priority, and a lower tier's order is served only from the units on hand above its "
                       "critical level"),
])
def test_one_sentence_explains_the_allocation_rule(rule, words):
    page = render_report(tiered_result(rule))
    assert f"<p>Allocation <code>{rule}</code>: {words}" in page.replace("&#39;", "'")
    others = {"fifo", "priority", "critical_level"} - {rule}
    assert not any(f"<code>{o}</code>" in page for o in others)


def test_the_allocation_rule_from_the_scenario_when_the_summary_has_none():
    result = tiered_result()
    for r in result.summary["tiers"]:
        del r["allocation"]
    ct = CustomerTiers.model_validate({"allocation": "priority",
                                       "tiers": [{"name": n, "share": SHARES[n]} for n in TIERS]})
    result.scenario = result.scenario.model_copy(update={"customer_tiers": ct})
    assert tables.allocation_text(result).text.startswith("Allocation priority: one queue per tier")
    result.scenario = result.scenario.model_copy(update={"customer_tiers": None})
    assert not tables.allocation_text(result)  # unknown: no sentence, the tables still shown
    assert "Service by customer tier" in render_report(result) and "Allocation" not in render_report(result)


# ---------------------------------------------------------------- per SKU


def test_the_per_sku_pivot_has_one_fill_rate_column_per_tier():
    result = tiered_result()
    page = parse(render_report(result), "tier-sku-table")
    assert page.headers == ["SKU", "Fill rate: key", "Fill rate: medium", "Fill rate: small"]
    rows = {r[0]: r[1:] for r in page.rows}
    assert list(rows) == list(result.plan["sku"])  # under the cap: plan order
    fr = dict(zip(result.plan["sku"], result.plan["fill_rate"]))
    assert rows["A-1"] == [f"{100 * (fr['A-1'] + d):.1f} %" for d in (0.01, -0.01, -0.03)]
    assert rows["C-2"][0] == "–"  # the key tier does not buy C-2
    t, _ = tables.tier_sku_table(result)
    assert t.sortable and t.total == 0
    assert float(t.rows[0][1].sort) == pytest.approx(fr["A-1"] + 0.01)


def test_the_tier_columns_follow_the_summary_order_not_the_rows():
    result = tiered_result()
    result.tiers = result.tiers.iloc[::-1].reset_index(drop=True)  # small first in the long table
    t, _ = tables.tier_sku_table(result)
    assert [h.label for h in t.headers] == ["SKU", "Fill rate: key", "Fill rate: medium", "Fill rate: small"]


def test_the_per_sku_pivot_is_capped_at_the_costliest_skus():
    n = tables.REPORT_ROWS_MAX + 60
    result = tiered_result()
    rng = np.random.default_rng(11)
    plan = result.plan.iloc[np.arange(n) % len(result.plan)].reset_index(drop=True)
    plan["sku"] = [f"T{k:05d}" for k in range(n)]
    plan["cost_total"] = rng.gamma(2.0, 5.0, n).round(3)
    result.plan, result.audit = plan, None
    result.tiers = tier_rows(plan)
    t, by = tables.tier_sku_table(result)
    assert t.total == n and len(t.rows) == tables.REPORT_ROWS_MAX
    expected = plan.assign(pos=np.arange(n)).sort_values(["cost_total", "pos"], ascending=[False, True])["sku"]
    assert [r[0].content.text for r in t.rows] == list(expected.head(tables.REPORT_ROWS_MAX))
    page = render_report(result)
    assert (f"The {tables.REPORT_ROWS_MAX} SKUs with the highest total cost per year, of {n}; "
            "tiers.csv has every SKU.") in page
    assert len(parse(page, "tier-sku-table").rows) == tables.REPORT_ROWS_MAX


def test_a_sku_id_with_markup_is_escaped_in_the_pivot():
    payload = "<script>window.__xss=9</script>"
    result = tiered_result()
    result.plan.loc[result.plan["sku"] == "A-1", "sku"] = payload
    result.audit = None
    result.tiers.loc[result.tiers["sku"] == "A-1", "sku"] = payload
    page = render_report(result)
    parsed = parse(page, "tier-sku-table")
    assert parsed.scripts == 1  # the page's own sorting script only
    assert payload not in page and "&lt;script&gt;window.__xss=9&lt;/script&gt;" in page
    assert parsed.rows[0][0] == payload  # shown as text


# ---------------------------------------------------------------- the critical level in the policy text


def test_policy_text_shows_a_critical_level_above_zero():
    assert tables.policy_text(pd.Series({"S": 60.0, "critical_level": 12.0})) == "S 60 · c 12"
    assert tables.policy_text(pd.Series({"s": 20.0, "S": 60.0, "R": 7.0, "critical_level": 2.5})) == "s 20 · S 60 · R 7 · c 2.5"
    for c in (0.0, np.nan, None):
        assert tables.policy_text(pd.Series({"S": 60.0, "critical_level": c})) == "S 60"
    assert tables.policy_text(pd.Series({"S": 60.0})) == "S 60"
    assert tables.policy_text(pd.Series({"recommended_S": 60.0, "recommended_critical_level": 4.0}),
                              "recommended_") == "S 60 · c 4"


def test_the_plan_table_shows_c_and_explains_it():
    result = tiered_result()
    page = parse(render_report(result), "sku-table")
    policy = {r[0]: r[2] for r in page.rows}
    assert policy["A-1"] == "sS s 80 · S 240 · c 12 · truck"
    assert policy["A-2"] == "RS S 180 · R 7 · truck"  # critical level 0: not shown
    assert policy["C-2"].endswith("c 1.5 · air")
    t = tables.sku_table(result)
    assert "c: critical level" in t.headers[2].title
    assert "c: critical level" not in tables.sku_table(synthetic_result()).headers[2].title


def test_the_saving_against_fifo_is_stated_per_year():
    result = tiered_result()
    ppy = float(result.scenario.horizon.periods_per_year)
    result.summary["allocation_comparison"] = {
        "allocation": "fifo", "status": "optimal", "cost_per_period": 110.0, "cost_per_period_used": 100.0,
        "saving_per_period": 10.0, "allocation_used": "critical_level",
        "tiers": [{"tier": "key", "fill_rate": 0.991}, {"tier": "rest", "fill_rate": 0.989}]}
    text = re.sub(r"<[^>]+>", "", render_report(result))
    assert f"costs {money(110.0 * ppy, result.scenario.currency)} per year" in text
    assert f"{money(10.0 * ppy, result.scenario.currency)} per year saved (9.1 %)" in text
    assert "key 99.1 %" in text
    result.summary["allocation_comparison"] = {"allocation": "fifo", "status": "infeasible",
                                               "allocation_used": "critical_level"}
    assert "the same rules cannot be met" in render_report(result)
    del result.summary["allocation_comparison"]
    assert "Against FIFO" not in render_report(result)


def test_the_curve_marker_says_its_figures_are_in_sample():
    # Issue 15, point 3: the curve is drawn in sample, the tiles out of sample; the marker says which.
    page = render_report(synthetic_result())
    assert "Recommended plan, in sample: " in page


def test_the_runs_warnings_are_in_the_headline_as_text():
    # A plan that lives off its starting stock (plan.csv note) must be said where people look.
    result = synthetic_result()
    result.summary["warnings"] = ["1 SKU (<b>X</b>) placed no replenishment order inside the verification horizon"]
    page = render_report(result)
    assert 'id="warnings"' in page
    assert "Warning: 1 SKU (&lt;b&gt;X&lt;/b&gt;) placed no replenishment order" in page
    del result.summary["warnings"]
    assert 'id="warnings"' not in render_report(result)


def test_the_demand_sentence_counts_own_and_thinned_skus_apart():
    # tiers.csv's demand_model: C-1 with own models (the medium tier left out), C-2 thinned.
    result = tiered_result(skip=())
    first = result.tiers["sku"] == result.tiers["sku"].iloc[0]
    own = {"key": "compound", "medium": "none", "small": "poisson"}
    result.tiers = result.tiers.assign(demand_model=[own.get(t, "thinned") if f else "thinned"
                                                     for t, f in zip(result.tiers["tier"], first)])
    text = tables.demand_text(result).text
    n_thin = result.tiers["sku"].nunique() - 1
    assert text.startswith("For 1 SKU, each tier's demand is its own model"), text
    assert "key: compound on 1 SKU; medium: none on 1 SKU; small: poisson on 1 SKU" in text, text
    assert f"for {n_thin} SKUs it is the SKU's demand split by the tier's share" in text, text
    result.tiers = result.tiers.assign(demand_model="thinned")
    assert tables.demand_text(result).text.startswith("Each tier's demand is the SKU's demand split"), text
