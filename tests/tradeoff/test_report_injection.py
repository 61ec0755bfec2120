"""Nothing a user writes reaches report.html or compare.html as markup (issue 13, point 2).

A hostile scenario puts an HTML/script payload in every free-text string a scenario has (description,
currency, SKU ids inline and from a skus_csv file, SKU classes, a class floor's name); names that
are also folder names (scenario, variants, transport modes) follow `[a-z0-9_-]+`, so they get the
most hostile value that rule lets through. The real pipeline runs it; the pages are parsed with
html.parser and must hold no element or attribute a payload would create, no event attribute, no
script but the engine's own, and every payload as visible text. The browser test
(tests/browser/test_report_browser.py) opens the same pages in Chromium. The shared case
i04_currency_html.yaml (a currency that ran script) is run end to end through the command."""

from __future__ import annotations

import base64
import csv
import hashlib
from html.parser import HTMLParser
from pathlib import Path

import pydantic
import pytest
import yaml

FLAG = "__xss"  # every payload sets window.__xss (or alerts): the browser test checks it stays unset
PAYLOADS = {
    "currency": f'<img src=x onerror="window.{FLAG}=1">',
    "description": f'"><script>window.{FLAG}=2</script>',
    "sku": f'</textarea><svg onload="window.{FLAG}=3">',
    "sku_i04": "<svg onload=alert(4)>",  # the shared case's payload, as a SKU id
    "class": f"<script>window.{FLAG}=5</script>",
    # breaks out of a single-quoted attribute; "$\xss$" would be (malformed) mathtext in a chart label
    "class_quote": f"' onmouseover='window.{FLAG}=6' data-x='$\\xss$",
    "csv_sku": f'<iframe srcdoc="<script>parent.{FLAG}=7</script>"></iframe>',
    "mode": f'<b onclick="window.{FLAG}=8">truck</b>',
}
# Scenario, variant (and today mode) names are folder names: [a-z0-9_-]+ (results_io.safe_name is
# wider). "--" is what ends an HTML comment; a leading "_" and trailing "-" test the edges.
NAME = "x--xss_-"
VARIANT = "from_csv--"
SAFE_MODE = "_--truck-"


def hostile_mode_name() -> str:
    """The transport mode name: the HTML payload if the schema accepts it as a mode name, else the
    most hostile name its rule lets through (so the test follows the rule if it is ever loosened)."""
    from scenarios.schema import Scenario

    try:
        Scenario.model_validate({"format": 1, "name": "m", "transport": [{"name": PAYLOADS["mode"], "lead_time": 1}],
                                 "skus": [{"id": "a", "unit_cost": 1, "price": 2, "demand": 1}]})
    except pydantic.ValidationError:
        return SAFE_MODE
    return PAYLOADS["mode"]


def write_hostile_scenario(folder: Path) -> Path:
    """hostile.yaml (inline SKUs; variant VARIANT takes its SKUs from skus.csv) written in `folder`;
    returns its path. Tiny: 2 SKUs, 60 periods, 2 replications, a target and a floor on a hostile class."""
    mode = hostile_mode_name()
    with open(folder / "skus.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "unit_cost", "price", "class", "demand.dist", "demand.mean"])
        w.writerow([PAYLOADS["csv_sku"], 10, 15, PAYLOADS["class"], "poisson", 5])
        w.writerow(["plain", 20, 30, PAYLOADS["class_quote"], "poisson", 2])
    scenario = {
        "format": 1, "name": NAME, "description": PAYLOADS["description"], "seed": 7, "currency": PAYLOADS["currency"],
        "horizon": {"periods": 60, "warmup": 5}, "replications": 2,
        "transport": [{"name": mode, "lead_time": 2, "cost_per_shipment": 50}],
        "skus": [{"id": PAYLOADS["sku"], "unit_cost": 10, "price": 15, "class": PAYLOADS["class"],
                  "demand": {"dist": "poisson", "mean": 5}, "current_policy": {"family": "sS", "s": 10, "S": 30, "mode": mode}},
                 {"id": PAYLOADS["sku_i04"], "unit_cost": 20, "price": 30, "class": PAYLOADS["class_quote"],
                  "demand": {"dist": "poisson", "mean": 2}}],
        "service": {"target": 0.9, "floors": {PAYLOADS["class"]: 0.85}, "frontier": [0.9, 0.95]},
        "policies": {"families": ["sS", "base_stock"], "review_periods": [0]},
        "variants": {VARIANT: {"skus_csv": "skus.csv"}},
    }
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def shown_on(page: str) -> list[str]:
    """The payloads a page must show as text: report.html of the base run, of the variant, compare.html."""
    common = [PAYLOADS["currency"]]
    if page == "compare":
        return common + [NAME, f"{NAME}+{VARIANT}"]
    named = common + [PAYLOADS["description"], PAYLOADS["class"], PAYLOADS["class_quote"], hostile_mode_name()]
    return named + ([PAYLOADS["sku"], PAYLOADS["sku_i04"]] if page == "base" else [PAYLOADS["csv_sku"]])


class Parsed(HTMLParser):
    """A page as an HTML tokenizer sees it: its elements (tag, attributes), the text of each script,
    and the text outside scripts and styles (entities decoded, as a reader sees it)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._raw: str | None = None  # the element (script, style) whose content is not page text
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._raw = tag
            if tag == "script":
                self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        if self._raw == "script":
            self.scripts[-1] += data
        elif self._raw is None:
            self.text.append(data)


def payload_elements() -> list[tuple[str, frozenset[str]]]:
    """What the payloads would create if written raw: (tag, attribute names) of each start tag."""
    return [(tag, frozenset(attrs)) for p in PAYLOADS.values() for tag, attrs in Parsed(p).elements]


def engine_script() -> str:
    from tradeoff.report.page import environment

    return environment().get_template("sort.js.j2").render()


def assert_inert(html: str, shown: list[str]) -> None:
    """`html` holds no markup from a payload and shows every string of `shown` as text."""
    page = Parsed(html)
    for tag, names in payload_elements():
        made = [attrs for t, attrs in page.elements if t == tag and names <= set(attrs)]
        own = 1 if tag == "script" and not names else 0  # the page's own table-sorting script
        assert len(made) == own, f"<{tag} {' '.join(sorted(names))}> from a payload is markup in the page"
    events = [(t, a) for t, attrs in page.elements for a in attrs if a.startswith("on")]
    assert events == [], events
    assert [(t, attrs) for t, attrs in page.elements if t == "script"] == [("script", {})]
    assert page.scripts == [engine_script()]
    assert all("data-chart" in attrs for t, attrs in page.elements if t == "svg")  # only the charts
    text = "".join(page.text)
    for s in shown:
        assert s in text, f"{s!r} is not shown as text"


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    """The base run and the skus_csv variant of the hostile scenario (the real pipeline, written to disk)."""
    from tradeoff.pipeline import run

    folder = tmp_path_factory.mktemp("hostile")
    path = write_hostile_scenario(folder)
    return [run(str(path), out=folder / "out"), run(str(path), out=folder / "out", variants=VARIANT)]


def test_report_pages_show_user_text_as_text(hostile_runs):
    base, variant = hostile_runs
    for result, page in ((base, "base"), (variant, "variant")):
        assert_inert((result.out_dir / "report.html").read_text(encoding="utf-8"), shown_on(page))


def test_compare_page_shows_user_text_as_text(hostile_runs):
    from tradeoff.report import render_compare

    assert_inert(render_compare(hostile_runs), shown_on("compare"))


def test_every_summary_string_is_text_too():
    """Strings the page takes from summary.json (engine, solver status, versions, rules, audit notes,
    tightening) are escaped like the scenario's: one way of writing text, whatever its source."""
    from test_report_synthetic import synthetic_result
    from tradeoff.report import render_report

    p = PAYLOADS["currency"]
    r = synthetic_result()
    rule = f"service.floors.{p}"
    r.summary.update(engine=p, versions={p: p}, timings={p: 1.0}, solver={"status": p, "method": p})
    r.summary["service"].update(rules=[{"rule": rule, "metric": p, "required": 0.9, "achieved": 0.8, "met": False}],
                                rules_missed=[rule])
    r.summary["verification"]["tightening"] = [{"kept": True, "levels": {rule: 0.95}}]
    r.summary["audit"]["skus_without_current_policy"] = [p]
    r.audit["note"] = p
    assert_inert(render_report(r), [f"Engine{p}", f"Solver status{p}", f"No current policy in the scenario for: {p}",
                                    f"✘ missed {rule}", f"chosen again with {rule} at 95.0 %"])


def test_the_page_runs_only_its_own_script():
    """The Content-Security-Policy allows one script, by hash: the page's own (and nothing to fetch)."""
    from test_report_synthetic import synthetic_result
    from tradeoff.report import render_report

    html = render_report(synthetic_result(with_audit=False))
    csp = next(a["content"] for t, a in Parsed(html).elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(engine_script().encode("utf-8")).digest()).decode("ascii")
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_chart_text_is_escaped_and_unsafe_svg_is_refused():
    """matplotlib writes chart text as text nodes (mathtext off: "$\\xss$" is shown, not parsed);
    charts.check_svg refuses anything that could run or fetch, so only inert SVG is marked safe."""
    import pandas as pd

    from tradeoff.report import charts

    rows = pd.DataFrame({"recommended": [0.95, 0.9]}, index=[PAYLOADS["class_quote"], "All"])
    svg = charts.class_service(rows, "fill_rate", {PAYLOADS["class_quote"]: 0.9}, 0.9)
    parsed = Parsed(str(svg))
    assert PAYLOADS["class_quote"] in "".join(parsed.text)
    assert not any(a.startswith("on") for _, attrs in parsed.elements for a in attrs)
    for bad in ("<svg><script>x()</script></svg>", '<svg onload="x()"></svg>', "<svg><foreignObject/></svg>",
                '<svg><a href="javascript:x()"><text>t</text></a></svg>', '<svg><use href="http://e.x/a.svg#b"/></svg>'):
        with pytest.raises(charts.UnsafeChart):
            charts.check_svg(bad)


# The shared case /work/shared/cases/trust/i04_currency_html.yaml, copied so that the test runs anywhere,
# with a backorder cost (a cost-optimal run refuses a shortage that costs nothing).
I04 = """\
format: 1
name: i04
description: tiny base scenario
seed: 7
currency: "<svg onload=alert(4)>"
horizon: {periods: 60, warmup: 5}
replications: 2
costs: {backorder_per_unit: 0.5}
transport:
  - name: truck
    lead_time: 2
    cost_per_shipment: 50
skus:
  - {id: A1, unit_cost: 10, price: 15, demand: {dist: poisson, mean: 5}}
  - {id: B2, unit_cost: 20, price: 30, demand: {dist: poisson, mean: 2}}
service:
  frontier: [0.9, 0.95]
policies:
  families: [sS, base_stock]
  review_periods: [0]
"""


def test_i04_currency_html_run_end_to_end(tmp_path):
    """`tradeoff run i04_currency_html.yaml --out DIR`: the currency is text in report.html (in the
    header and in every amount), the SVG payload is no element of the page."""
    from typer.testing import CliRunner

    from tradeoff.cli import app

    path = tmp_path / "i04_currency_html.yaml"
    path.write_text(I04, encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "out" / "i04" / "report.html").read_text(encoding="utf-8")
    currency = "<svg onload=alert(4)>"
    assert_inert(html, [f"money in {currency} per year", f"Total cost per year{currency} "])
