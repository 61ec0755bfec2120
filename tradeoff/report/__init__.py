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

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["render_compare", "render_report"]


@contextlib.contextmanager
def without_gc_passes() -> Iterator[None]:
    """Inside, Python's cyclic garbage collector does not run (its state is restored after).

    A page allocates a great many small objects (matplotlib's modules and artists, table cells),
    which start collector passes again and again, and each full pass walks every object the run
    holds, not just the page's. The page's own cyclic garbage (its figures) is small and is freed by
    the first pass after it; reference counting frees everything else as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
