"""report.html and compare.html in a real browser (headless Chromium): no console errors, no network
request, every chart drawn with a real size, the per-SKU table sorts on click; screenshots are saved
in the test's tmp dir (report.png, compare.png) for a person to look at.

The report is the one `tradeoff.run` writes for scenarios/examples/service_audit.yaml (shortened:
2 replications, 120 periods, to stay fast): real data, with a target, class floors and an audit.

Nothing a user writes runs: the hostile scenario of tests/tradeoff/test_report_injection.py (a script
payload in every string a scenario has) goes through `tradeoff compare FILE --variant all`, and its
report.html pages and compare.html are opened: no payload runs (window.__xss stays unset, no dialog),
even when every element gets a mouseover and a click, and each payload is shown as text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is not installed (CI installs Debian's chromium)"),
]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tradeoff"))  # the synthetic result builder
from test_report_injection import FLAG, NAME, VARIANT, shown_on, write_hostile_scenario  # noqa: E402
from test_report_synthetic import synthetic_result  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path):
    """The page loaded from the file, with the console errors, page errors, non-file requests and
    dialogs (alert, confirm...: dismissed) seen."""
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    seen = {"errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: seen["requests"].append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


def check_chart(page, name: str) -> None:
    chart = page.locator(f'svg.chart[data-chart="{name}"]')
    assert chart.count() == 1, name
    box = chart.bounding_box()
    assert box is not None and box["width"] > 250 and box["height"] > 150, (name, box)
    assert chart.locator("path").count() > 20, name  # lines, bars, markers actually drawn
    assert "per year" in chart.text_content() or "%" in chart.text_content()


@pytest.fixture(scope="module")
def audit_run(tmp_path_factory):
    from tradeoff.pipeline import run

    out = tmp_path_factory.mktemp("runs")
    example = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "service_audit.yaml"
    return run(str(example), out=out, overrides={"replications": 2, "horizon.periods": 120})


def test_report_in_chromium(browser, audit_run, tmp_path):
    from tradeoff.report.format import pct
    from tradeoff.report.headline import cost_optimal_row

    result = audit_run
    ppy = result.scenario.horizon.periods_per_year
    path = result.out_dir / "report.html"
    page, seen = open_page(browser, path)
    for name in ("exchange-curve", "cost-breakdown", "class-service"):
        check_chart(page, name)
    headline = page.locator("#headline").text_content()
    assert f"Cost-optimal fill rate {pct(cost_optimal_row(result.frontier)['achieved'])}" in headline
    assert page.locator("#audit-table tbody tr").count() == len(result.scenario.skus)

    # sorting: click "Total cost / yr" -> ascending, again -> descending, by the raw per-year value
    heads = page.locator("#sku-table thead th")
    k = [heads.nth(i).text_content() for i in range(heads.count())].index(
        next(t for t in heads.all_text_contents() if t.startswith("Total cost / yr")))
    expected = sorted(result.plan["cost_total"] * ppy)
    for order in (expected, expected[::-1]):
        heads.nth(k).click()
        cells = page.locator(f"#sku-table tbody tr td:nth-child({k + 1})")
        values = [float(cells.nth(i).get_attribute("data-v")) for i in range(cells.count())]
        assert values == pytest.approx(order)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 50_000
    assert seen["errors"] == [] and seen["requests"] == []
    page.close()


def test_compare_in_chromium(browser, tmp_path):
    from tradeoff.report import render_compare

    runs = [synthetic_result(target=0.98, name="dc-north"), synthetic_result(target=0.95, with_audit=False, name="dc-south")]
    path = tmp_path / "compare.html"
    path.write_text(render_compare(runs), encoding="utf-8")
    page, seen = open_page(browser, path)
    for name in ("compare-frontiers", "compare-costs"):
        check_chart(page, name)
    assert page.locator("#compare-table tbody tr").count() == 2
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    assert seen["errors"] == [] and seen["requests"] == []
    page.close()


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory) -> dict[str, Path]:
    """The pages `tradeoff compare hostile.yaml --variant all --out DIR` writes: report.html of the base
    run ("base") and of the skus_csv variant ("variant"), and compare.html ("compare")."""
    from typer.testing import CliRunner

    from tradeoff.cli import app

    folder = tmp_path_factory.mktemp("hostile")
    out = folder / "out"
    res = CliRunner().invoke(app, ["compare", str(write_hostile_scenario(folder)), "--variant", "all", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return {"base": out / NAME / "report.html", "variant": out / f"{NAME}+{VARIANT}" / "report.html",
            "compare": out / "compare.html"}


# Fire what an event-handler payload waits for, on every element: if any markup had got through,
# its handler would run now (it still must not).
POKE = """() => document.querySelectorAll("body *").forEach(function (e) {
  ["mouseover", "focus", "click"].forEach(function (t) { e.dispatchEvent(new Event(t, {bubbles: true})); });
})"""


@pytest.mark.parametrize("which", ["base", "variant", "compare"])
def test_user_text_never_runs_in_chromium(browser, hostile_pages, which):
    page, seen = open_page(browser, hostile_pages[which])
    page.evaluate(POKE)
    assert page.evaluate(f"() => typeof window.{FLAG}") == "undefined"
    assert seen["dialogs"] == [] and seen["errors"] == [] and seen["requests"] == []
    assert page.locator("img, iframe, textarea").count() == 0 and page.locator("script").count() == 1
    text = page.locator("body").inner_text()
    for payload in shown_on(which):
        assert payload in text, f"{payload!r} is not shown as text"
    page.close()
