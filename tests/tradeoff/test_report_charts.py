"""The report's charts are cropped as savefig(bbox_inches="tight") crops them, from one draw: the SVG's
viewBox is the box around what is drawn (legends below the axes included, their lines not clipped),
and a chart drawing beyond its canvas falls back to the tight savefig."""

from __future__ import annotations

import io
import re

import pytest

from tradeoff.report import charts


def _view_box(svg: str) -> list[float]:
    return [float(v) for v in re.search(r'<svg[^>]*? viewBox="([^"]*)"', svg).group(1).split()]


def _tight_size(fig) -> list[float]:
    """(width, height) in points of the same figure saved the tight way."""
    buf = io.StringIO()
    fig.get_figure(root=True).savefig(buf, format="svg", bbox_inches="tight", pad_inches=charts.PAD_INCHES)
    return _view_box(buf.getvalue())[2:]


def _chart(label: str = "a line", tight: bool = False):
    """A chart as the report draws them (in its rc settings), as svg() makes it or, with `tight`, the
    (width, height) of the same figure saved the tight way."""
    with charts.matplotlib.rc_context(charts.RC):
        fig = charts.chart_figure(7.2, 4.3)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], ls="--", label=label)
        ax.plot([0, 1], [1, 0], label="another line")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below the axes, as the report's
        return _tight_size(fig) if tight else str(charts.svg(fig, "t"))


@pytest.mark.parametrize("label", ["a line", "a label far longer than the chart is wide " * 8])
def test_crop_is_the_tight_crop(label):
    svg = _chart(label)
    assert _view_box(svg)[2:] == pytest.approx(_chart(label, tight=True), abs=0.01)
    assert "another line" in svg


def test_legend_line_below_the_axes_is_drawn_whole():
    """The legend's line samples lie below the figure's own box: on the canvas, so not clipped away."""
    svg = _chart()
    x0, y0, w, h = _view_box(svg)
    legend = svg[svg.index('id="t-legend_1"'):]
    first_line = re.search(r'<path d="M ([-\d.]+) ([-\d.]+)\s*L ([-\d.]+) ([-\d.]+)', legend)
    assert first_line, "the legend's first line sample is missing"
    xa, ya, xb, yb = map(float, first_line.groups())
    assert xb - xa > 5 and ya == pytest.approx(yb)  # a horizontal stroke, not a clipped-away one
    assert x0 <= xa and xb <= x0 + w and y0 <= ya <= y0 + h


def test_same_chart_same_bytes():
    assert _chart() == _chart()
