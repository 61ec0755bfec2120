"""A catalogue of thousands of SKUs gives a readable page: the per-SKU tables show the
REPORT_ROWS_MAX SKUs of highest cost per year and say so; plan.csv and audit.csv keep every SKU."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tradeoff.report import render_report, tables

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_synthetic import synthetic_result  # noqa: E402


def _many(result, n: int, seed: int = 3):
    """`result` with a plan (and audit) of n SKUs: copies of its rows with new ids and random costs."""
    rng = np.random.default_rng(seed)
    plan = result.plan.iloc[np.arange(n) % len(result.plan)].reset_index(drop=True)
    plan["sku"] = [f"S{k:05d}" for k in range(n)]
    plan["cost_total"] = rng.gamma(2.0, 5.0, n).round(3)  # ties are possible: rounded
    result.plan = plan
    if result.audit is not None:
        audit = result.audit.iloc[np.arange(n) % len(result.audit)].reset_index(drop=True)
        audit["sku"] = plan["sku"]
        audit["current_cost_total"] = np.where(audit["has_current_policy"], rng.gamma(2.0, 5.0, n), np.nan)
        result.audit = audit
    return result


def test_the_sku_table_shows_the_largest_costs_and_says_how_many_there_are():
    n = tables.REPORT_ROWS_MAX + 137
    result = _many(synthetic_result(with_audit=False), n)  # no audit table naming other SKUs
    t = tables.sku_table(result)
    assert t.total == n and len(t.rows) == tables.REPORT_ROWS_MAX
    # brute force: the REPORT_ROWS_MAX highest costs, highest first, ties in plan order
    plan = result.plan.assign(pos=np.arange(n))
    expected = plan.sort_values(["cost_total", "pos"], ascending=[False, True])["sku"].head(tables.REPORT_ROWS_MAX)
    shown = [float(c.sort) for c in t.column("Total cost")]
    assert shown == sorted(shown, reverse=True)
    page = render_report(result)
    assert f"The {tables.REPORT_ROWS_MAX} SKUs with the highest total cost per year, of {n}; plan.csv has every SKU." in page
    for sku in expected:
        assert f">{sku}<" in page
    left_out = set(plan["sku"]) - set(expected)
    assert left_out and not any(f">{sku}<" in page for sku in left_out)


def test_the_audit_table_is_capped_by_todays_cost_and_lists_at_most_20_unaudited():
    n = tables.REPORT_ROWS_MAX + 40
    result = _many(synthetic_result(), n)
    t = tables.audit_table(result)
    assert t.total == n and len(t.rows) == tables.REPORT_ROWS_MAX
    page = render_report(result)
    assert f"The {tables.REPORT_ROWS_MAX} SKUs with the highest current cost per year, of {n}; audit.csv has every SKU." in page
    audit = result.audit
    top = audit.assign(c=audit["current_cost_total"].fillna(-np.inf), pos=np.arange(n)).sort_values(
        ["c", "pos"], ascending=[False, True])["sku"].head(tables.REPORT_ROWS_MAX)
    assert all(f">{sku}<" in page for sku in top)


def test_a_small_catalogue_is_shown_whole_in_plan_order():
    result = synthetic_result()
    t = tables.sku_table(result)
    assert t.total == 0 and len(t.rows) == len(result.plan)
    assert "plan.csv has every SKU" not in render_report(result)
