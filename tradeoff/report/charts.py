"""The report's charts: matplotlib figures rendered to SVG text, to be inlined in the page.

No pyplot (no global figure state), a fixed hash salt and no date in the SVG, so the same result
always gives the same bytes. Colours are the Okabe-Ito palette (safe for colour-blind readers), and
lines also differ by style and marker. Money is per year, in the scenario's currency, on every axis.

Chart text holds user strings (currency, class names, scenario names). matplotlib writes text as
<text> nodes with & < > escaped and never puts text in attributes; mathtext is off, so a `$` in a
name is shown as typed (and a malformed one cannot stop the report). `svg()` checks each chart
before it is marked safe for the page: no element or attribute that could run or fetch anything.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import numpy as np
import pandas as pd
from markupsafe import Markup

from tradeoff.report.format import BUCKET_LABELS, BUCKETS, is_number, metric_label, money, pct
from tradeoff.report.mpl import Figure, FuncFormatter, MaxNLocator, SubFigure, matplotlib

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7"}
BUCKET_COLOURS = {"cost_carrying": OKABE_ITO["blue"], "cost_ordering": OKABE_ITO["orange"],
                  "cost_order_processing": OKABE_ITO["sky"], "cost_transport": OKABE_ITO["green"],
                  "cost_warehousing": OKABE_ITO["yellow"], "cost_shortage": OKABE_ITO["vermillion"]}
SERIES = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "black", "yellow")]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "h"]

RC = {
    "svg.fonttype": "none",  # text stays text: the browser's font, selectable, small files
    "svg.hashsalt": "tradeoff-report",  # stable element ids: same input, same bytes
    "text.parse_math": False,  # names are text: "$a$" shows as typed; a malformed "$\x$" cannot raise
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # the title at the top of the axes: where matplotlib's automatic placement puts it on these charts
    # (no x axis or offset text on top), without the measuring of every tick label that decides it
    "axes.titley": 1.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 9,
}


def chart_figure(width: float, height: float) -> SubFigure:
    """The figure to draw a chart of `width` x `height` inches on (add_subplot, add_gridspec, legend
    as on a Figure): a SubFigure of that size centred on a canvas CANVAS_MARGIN inches larger on every
    side, so that what is drawn outside the chart's own box (the legends below the axes) is still on
    the canvas, where the SVG backend does not clip it. svg() crops the canvas to what is drawn."""
    margin = CANVAS_MARGIN
    canvas = Figure(figsize=(width + 2 * margin, height + 2 * margin))
    # a subfigure's place is set by the grid's ratios alone (not its left, right... margins)
    grid = canvas.add_gridspec(3, 3, width_ratios=[margin, width, margin], height_ratios=[margin, height, margin])
    return canvas.add_subfigure(grid[1, 1])


CANVAS_MARGIN = 2.0  # inches of canvas around a chart's box (see chart_figure)
PAD_INCHES = 0.1  # white space kept around what is drawn, as savefig(bbox_inches="tight") keeps


def svg(fig: Figure | SubFigure, name: str) -> Markup:
    """The figure as inline SVG markup, safe to put in the page as is: no XML prolog, scalable (width
    follows the page), cropped to what is drawn, element ids prefixed with `name` so that several
    charts on one page never share an id. Raises UnsafeChart if the SVG holds anything that could run
    or fetch (see check_svg)."""
    canvas = fig.get_figure(root=True)
    text, view_box = _drawn_svg(canvas)
    text = text[text.index("<svg"):]
    text = _TAG.sub(lambda m: _prefix_ids(m.group(0), name), text)
    # scalable: drop the fixed size and let the viewBox and CSS decide
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', text, count=1)
    if view_box is not None:
        text = re.sub(r'(<svg[^>]*? viewBox=")[^"]*"', lambda m: m.group(1) + view_box + '"', text, count=1)
    text = text.replace("<svg", f'<svg class="chart" data-chart="{name}" role="img"', 1)
    check_svg(text)
    return Markup(text)  # noqa: S704 -- matplotlib's own markup, checked above; text nodes escaped by matplotlib


_SVG_OPTIONS = {"format": "svg", "metadata": {"Date": None, "Creator": None}}  # no date: same input, same bytes


def _drawn_svg(canvas: Figure) -> tuple[str, str | None]:
    """(the SVG text of `canvas`, the viewBox that crops it to what is drawn, padded by PAD_INCHES).

    savefig(bbox_inches="tight") lays the figure out three times (a draw to place the ticks, the
    box, then the real draw with a new renderer, so that every text is measured again); measuring
    the box at the end of the one real draw gives the same crop from one layout. The backend clips
    lines to the canvas, so when something was drawn beyond the canvas (CANVAS_MARGIN was not
    enough), or the box was not measured, the figure is drawn again the tight way: (its SVG, None)."""
    drawn: list = []
    cid = canvas.canvas.mpl_connect("draw_event", lambda event: drawn.append(canvas.get_tightbbox(event.renderer)))
    buf = io.StringIO()
    canvas.savefig(buf, **_SVG_OPTIONS)
    canvas.canvas.mpl_disconnect(cid)
    width, height = canvas.get_size_inches()
    box = drawn[-1].padded(PAD_INCHES) if drawn else None
    if box is None or box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height:
        buf = io.StringIO()
        canvas.savefig(buf, bbox_inches="tight", pad_inches=PAD_INCHES, **_SVG_OPTIONS)
        return buf.getvalue(), None
    # points (the SVG's unit), from the top left corner
    x, y, w, h = box.x0 * 72, (height - box.y1) * 72, box.width * 72, box.height * 72
    return buf.getvalue(), f"{x:.6g} {y:.6g} {w:.6g} {h:.6g}"


# A start or end tag (not a comment): in matplotlib's SVG, text nodes have < and > escaped, so this
# never matches inside chart text, and ids are only rewritten where they are attributes.
_TAG = re.compile(r"<(?!!--)[^<>]*>")


def _prefix_ids(tag: str, name: str) -> str:
    """One tag with its id, url(#id) and href="#id" references prefixed with `name`."""
    tag = re.sub(r' id="([^"]+)"', lambda m: f' id="{name}-{m.group(1)}"', tag)
    tag = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{name}-{m.group(1)})", tag)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{name}-{m.group(1)}"', tag)


class UnsafeChart(RuntimeError):
    """A chart's SVG holds an element or attribute that could run script or fetch (a bug: never shown)."""


_UNSAFE_ELEMENTS = {"script", "foreignobject", "iframe", "object", "embed", "image", "img", "a", "animate", "set",
                    "animatemotion", "animatetransform", "handler", "listener", "audio", "video"}


class _SvgCheck(HTMLParser):
    """Collects what the HTML parser of a browser would see as elements and attributes of the SVG."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSAFE_ELEMENTS:
            self.problems.append(f"element <{tag}>")
        for key, value in attrs:
            if key.startswith("on"):
                self.problems.append(f"attribute {key} on <{tag}>")
            elif key.endswith("href") and not (value or "").startswith("#"):
                self.problems.append(f"link {key}={value!r} on <{tag}>")
            elif "javascript:" in (value or "").lower().replace(" ", ""):
                self.problems.append(f"script URL in {key} on <{tag}>")


def check_svg(text: str) -> None:
    """Raise UnsafeChart unless the SVG `text` has only inert content: no script-capable or fetching
    element (script, foreignObject, a, image, animation...), no on* event attribute, no link outside
    the SVG itself. User text in the charts is text-node content; this guards the escaping."""
    check = _SvgCheck()
    check.feed(text)
    check.close()
    if check.problems:
        raise UnsafeChart("chart SVG is not inert: " + "; ".join(sorted(set(check.problems))))


def money_axis(ax, currency: str, axis: str = "y") -> None:
    """Tick labels of `axis` as compact money (€1.2 M)."""
    fmt = FuncFormatter(lambda v, _: money(v, currency, compact=True))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def pct_axis(ax, axis: str = "x") -> None:
    """Tick labels of `axis` as percentages of shares (0.95 -> 95 %)."""
    fmt = FuncFormatter(lambda v, _: f"{100 * v:.4g} %")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


@dataclass
class Point:
    """A marked plan on a chart: service level (share) and total cost per year."""

    level: float
    cost: float
    label: str


def exchange_curve(frontier: pd.DataFrame, currency: str, periods_per_year: float, metric: str,
                   chosen: Point | None = None, target: float | None = None, level_of: str | None = None) -> Markup:
    """The exchange curve: total, logistics and shortage cost per year against the achieved service
    level, the cost-optimal and chosen plans marked, the marginal cost of each extra point labelled.
    `level_of`: whose level the curve is drawn for (a customer tier's name; None: all demand)."""
    f = frontier.sort_values("achieved", kind="stable").reset_index(drop=True)
    ppy = float(periods_per_year)
    x = f["achieved"].astype(float).to_numpy()
    with matplotlib.rc_context(RC):
        fig = chart_figure(7.2, 4.3)
        ax = fig.add_subplot()
        ax.plot(x, f["cost_total"] * ppy, color=OKABE_ITO["black"], marker="o", ms=4, lw=2,
                label="Total cost (logistics + lost sales)")
        if "cost_logistics" in f.columns:
            ax.plot(x, f["cost_logistics"] * ppy, color=OKABE_ITO["blue"], marker="s", ms=3.5, lw=1.6, ls="--",
                    label="Logistics cost (all but lost sales)")
        if "cost_shortage" in f.columns:
            ax.plot(x, f["cost_shortage"] * ppy, color=OKABE_ITO["vermillion"], marker="v", ms=3.5, lw=1.3, ls=":",
                    label="Lost sales & shortage cost")
        if "marginal_cost" in f.columns and "cost_logistics" in f.columns:
            # label a point only when it stands clear of the last labelled one, so labels never
            # overlap; from the right, so the steep (most expensive) end is always labelled; below
            # the line, since the total cost line always runs above it
            gap, last = 0.12 * max(float(np.ptp(x)), 1e-9), np.inf
            points = list(zip(x, f["cost_logistics"] * ppy, f["marginal_cost"]))[::-1]
            for xi, yi, mc in points:
                if is_number(mc) and last - xi >= gap:
                    last = xi
                    ax.annotate(f"{money(mc * ppy, currency, compact=True, sign=True)}/pt", (xi, yi),
                                textcoords="offset points", xytext=(-4, -5), ha="right", va="top", fontsize=7.5,
                                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                                color=OKABE_ITO["blue"])
        if target is not None:
            ax.axvline(target, color="#777777", ls=(0, (2, 3)), lw=1)
        opt = f[f["cost_optimal"].astype(bool)] if "cost_optimal" in f.columns else f.iloc[0:0]
        if len(opt):
            o = opt.iloc[0]
            ax.plot([o["achieved"]], [o["cost_total"] * ppy], marker="*", ms=16, color=OKABE_ITO["green"],
                    mec="black", mew=0.7, ls="none", zorder=5,
                    label=f"Cost-optimal: {pct(o['achieved'])}, {money(o['cost_total'] * ppy, currency, compact=True)}/yr")
        if chosen is not None and is_number(chosen.level) and is_number(chosen.cost):
            ax.plot([chosen.level], [chosen.cost], marker="D", ms=9, color=OKABE_ITO["orange"], mec="black", mew=0.7,
                    ls="none", zorder=6, label=chosen.label)
        pct_axis(ax, "x")
        money_axis(ax, currency, "y")
        whose = f" of tier {level_of}" if level_of else ""
        ax.set_xlabel(f"{metric_label(metric).capitalize()}{whose} achieved (%, demand-weighted)")
        ax.set_ylabel(f"Cost per year ({currency})")
        ax.set_ylim(bottom=0)
        if target is not None:  # the label on the side of the line with more room
            lo, hi = ax.get_xlim()
            right = target < (lo + hi) / 2
            ax.annotate(f"target {pct(target)}", (target, 0.0), xycoords=("data", "axes fraction"),
                        xytext=(4 if right else -4, 4), textcoords="offset points", fontsize=8, color="#555555",
                        ha="left" if right else "right")
        ax.set_title("Exchange curve: what each level of service costs")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
        return svg(fig, "exchange-curve")


def _stack(ax, labels: list[str], costs: list[dict], currency: str, width: float = 0.62) -> None:
    """Stacked bars of the six buckets (money per year), the total written on top of each bar."""
    xs = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for b in BUCKETS:
        v = np.array([float(c.get(b, 0.0)) if is_number(c.get(b)) else 0.0 for c in costs])
        ax.bar(xs, v, width, bottom=bottom, color=BUCKET_COLOURS[b], edgecolor="white", linewidth=0.5,
               label=BUCKET_LABELS[b], hatch="//" if b == "cost_shortage" else None)
        bottom += v
    for xi, t in zip(xs, bottom):
        ax.annotate(money(t, currency, compact=True), (xi, t), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8)
    ax.set_xticks(xs, labels)
    ax.grid(axis="x", visible=False)
    money_axis(ax, currency, "y")
    ax.set_ylim(0, max(bottom.max(), 1e-9) * 1.12)


def cost_breakdown(left_title: str, left: list[tuple[str, dict]], right_title: str, right: list[tuple[str, dict]],
                   currency: str) -> Markup:
    """Cost by bucket (stacked, money per year): `left` bars (e.g. current vs recommended, or the plan
    by class) beside `right` bars (e.g. the plans along the exchange curve). Each side is a list of
    (bar label, {bucket column: money per year})."""
    with matplotlib.rc_context(RC):
        fig = chart_figure(9.6, 4.2)
        n_left, n_right = max(len(left), 1), max(len(right), 1)
        grid = fig.add_gridspec(1, 2, width_ratios=[max(n_left, 2.6), max(n_right, 3)], wspace=0.28)
        axes = []
        for k, (title, bars) in enumerate(((left_title, left), (right_title, right))):
            if not bars:
                continue
            ax = fig.add_subplot(grid[0, k])
            _stack(ax, [b[0] for b in bars], [b[1] for b in bars], currency)
            ax.set_title(title, fontsize=10.5)
            ax.set_ylabel(f"Cost per year ({currency})")
            axes.append(ax)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(0.91, 0.5))
        return svg(fig, "cost-breakdown")


def class_service(rows: pd.DataFrame, metric: str, floors: dict, target: float | None) -> Markup:
    """Service per class as a dot plot: `rows` indexed by class (and "All"), columns `recommended` and,
    when audited, `current` (shares); class floors and the aggregate target drawn as ticks."""
    with matplotlib.rc_context(RC):
        fig = chart_figure(5.6, 0.55 * len(rows) + 1.5)
        ax = fig.add_subplot()
        ys = np.arange(len(rows))[::-1]
        lo = 1.0
        if "current" in rows.columns:
            cur = rows["current"].astype(float)
            ax.plot(cur, ys, ls="none", marker="s", ms=8, color=OKABE_ITO["orange"], mec="black", mew=0.5,
                    label="Current policies")
            for y, c, r in zip(ys, cur, rows["recommended"].astype(float)):
                if is_number(c) and is_number(r):
                    ax.annotate("", (r, y), (c, y), arrowprops={"arrowstyle": "->", "color": "#888888", "lw": 1})
            lo = min(lo, np.nanmin(cur.to_numpy()) if cur.notna().any() else 1.0)
        rec = rows["recommended"].astype(float)
        ax.plot(rec, ys, ls="none", marker="o", ms=8, color=OKABE_ITO["blue"], mec="black", mew=0.5,
                label="Recommended plan")
        lo = min(lo, np.nanmin(rec.to_numpy()) if rec.notna().any() else 1.0)
        floor_label = "Class floor / target"
        for y, cls in zip(ys, rows.index):
            req = target if cls == "All" else floors.get(cls)
            if is_number(req):
                ax.plot([req], [y], marker="|", ms=18, mew=2.2, color=OKABE_ITO["black"], ls="none", label=floor_label)
                floor_label = None
                lo = min(lo, req)
        for y, r in zip(ys, rec):
            if is_number(r):
                ax.annotate(pct(r), (r, y), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
        ax.set_yticks(ys, [str(c) for c in rows.index])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        span = max(1.0 - lo, 0.02)
        ax.set_xlim(max(0.0, lo - 0.15 * span), 1.0 + 0.06 * span)
        pct_axis(ax, "x")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"{metric_label(metric).capitalize()} (%, demand-weighted, out of sample)")
        ax.set_title(f"{metric_label(metric).capitalize()} by class")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3)
        return svg(fig, "class-service")


def compare_frontiers(series: list[dict], metric: str, currency: str) -> Markup:
    """Several scenarios' exchange curves overlaid: each item of `series` has `label`, `frontier`
    (frontier.csv rows), `periods_per_year`, and optionally `chosen` (a Point). Total cost per year."""
    with matplotlib.rc_context(RC):
        fig = chart_figure(6.6, 4.8)
        ax = fig.add_subplot()
        for k, s in enumerate(series):
            colour, marker = SERIES[k % len(SERIES)], MARKERS[k % len(MARKERS)]
            f = s["frontier"].sort_values("achieved", kind="stable")
            ppy = float(s["periods_per_year"])
            ax.plot(f["achieved"], f["cost_total"] * ppy, color=colour, marker=marker, ms=4, lw=1.8,
                    ls=["-", "--", "-.", ":"][k % 4], label=s["label"])
            opt = f[f["cost_optimal"].astype(bool)] if "cost_optimal" in f.columns else f.iloc[0:0]
            if len(opt):
                ax.plot([opt["achieved"].iloc[0]], [opt["cost_total"].iloc[0] * ppy], marker="*", ms=15, color=colour,
                        mec="black", mew=0.7, ls="none", zorder=5)
            c = s.get("chosen")
            if c is not None and is_number(c.level) and is_number(c.cost):
                ax.plot([c.level], [c.cost], marker="D", ms=8, color=colour, mec="black", mew=0.7, ls="none", zorder=6)
        ax.plot([], [], marker="*", ms=12, color="white", mec="black", ls="none", label="cost-optimal point")
        ax.plot([], [], marker="D", ms=7, color="white", mec="black", ls="none", label="recommended plan")
        pct_axis(ax, "x")
        money_axis(ax, currency, "y")
        ax.margins(x=0.05, y=0.12)  # lines, not bars: the axis need not start at zero to be honest
        ax.set_xlabel(f"{metric_label(metric).capitalize()} achieved (%, demand-weighted)")
        ax.set_ylabel(f"Total cost per year ({currency})")
        ax.set_title("Exchange curves side by side")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
        return svg(fig, "compare-frontiers")


def compare_costs(bars: list[tuple[str, dict]], currency: str) -> Markup:
    """Recommended plans' cost by bucket per scenario (stacked, money per year)."""
    with matplotlib.rc_context(RC):
        fig = chart_figure(6.6, 4.8)
        ax = fig.add_subplot()
        _stack(ax, [b[0] for b in bars], [b[1] for b in bars], currency, width=0.55)
        ax.set_ylabel(f"Cost per year ({currency})")
        ax.set_title("Cost of each recommended plan, by bucket")
        if len(bars) > 4:
            for t in ax.get_xticklabels():
                t.set_rotation(25)
                t.set_ha("right")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13 if len(bars) <= 4 else -0.25), ncol=3)
        return svg(fig, "compare-costs")
