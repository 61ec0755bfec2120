"""The HTML report: one self-contained page per run (report.html) and one page comparing runs.

`render_report(result) -> str`: headline (cost-optimal level and cost, the target's extra cost and the
value of a lost unit it implies against the margin), the exchange curve, cost by bucket (current vs
recommended when audited), service metrics per class, service by customer tier (when the scenario has
customer_tiers: the allocation rule, each tier's figures and floor, each SKU's fill rate per tier), the audit, the per-SKU plan (sortable), the
frontier in numbers and the run's provenance. `render_compare(results) -> str`: several runs side by
side (costs by bucket, aggregate metrics, exchange curves overlaid). Money per year in the scenario's
currency (the engine's per-period money times horizon.periods_per_year); charts are inline SVG.
The pages are Jinja2 templates (templates/) with autoescaping on: every user string is shown as text.
"""

from __future__ import annotations

from scenarios.gc_pause import without_gc_passes

__all__ = ["render_compare", "render_report"]


def render_report(result) -> str:
    """report.html of one run (a tradeoff.Result) as HTML text: self-contained, no network needed."""
    with without_gc_passes():
        from tradeoff.report.page import render_report as _render

        return _render(result)


def render_compare(results: list) -> str:
    """The comparison page of several runs (tradeoff.Result objects) as HTML text, self-contained."""
    with without_gc_passes():
        from tradeoff.report.page import render_compare as _render

        return _render(results)
