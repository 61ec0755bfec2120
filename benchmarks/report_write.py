"""CPU time of rendering report.html from a finished run, as the `write` stage of `tradeoff run` pays it.

Usage:
    .venv/bin/python -m tradeoff.cli run scenarios/bench/bench_1000.yaml --out /tmp/rw_bench --jobs 1
    .venv/bin/python benchmarks/report_write.py /tmp/rw_bench/bench_1000 scenarios/bench/bench_1000.yaml \
        [--repeats 5] [--before GIT_REV]

The run's folder is read back with tradeoff.result.read (not timed); then only
tradeoff.results_io.render_html(result) is timed with time.process_time. Each repeat is a fresh Python
process, so the figure includes importing matplotlib, Jinja2 and the report modules and compiling the
templates once, as a `tradeoff run` process pays them (reading the result back does not import
matplotlib; the child checks that). With PYTHONDONTWRITEBYTECODE set (the child inherits the
environment), it also includes compiling the report's own modules from source. Prints the median
over the repeats:

    report_cpu_seconds <median> (min .. max, repeats=N, <scenario>)

With --before REV the same measurement also runs on the code of git revision REV (exported with
`git archive` into a temporary folder, not a worktree), the two alternating repeat by repeat so that
both see the same machine load; both figures are printed, and whether the pages of each side are
byte-identical across repeats (they must be) and between the two sides.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from revisions import alternated, child_figures  # noqa: E402  (benchmarks/revisions.py)

# Runs in a fresh process whose working folder is the code to measure: read the result, time the render.
CHILD = r"""
import hashlib, json, sys, time
folder, scenario = sys.argv[1], sys.argv[2]
from tradeoff.result import read
result = read(folder, scenario, candidates=False)
preloaded = "matplotlib" in sys.modules
start = time.process_time()
from tradeoff.results_io import render_html
html = render_html(result)
seconds = time.process_time() - start
import tradeoff
print(json.dumps({"seconds": seconds, "sha256": hashlib.sha256(html.encode("utf-8")).hexdigest(),
                  "bytes": len(html.encode("utf-8")), "matplotlib_preloaded": preloaded, "code": tradeoff.__file__}))
"""


def line(runs: list[dict], scenario: Path, label: str = "") -> str:
    """`report_cpu_seconds <median> (min .. max, repeats=N, scenario)` for one side's runs."""
    s = [r["seconds"] for r in runs]
    name = f"report_cpu_seconds{label}"
    return f"{name} {statistics.median(s):.3f} ({min(s):.3f} .. {max(s):.3f}, repeats={len(s)}, {scenario})"


def identical(runs: list[dict]) -> bool:
    return len({r["sha256"] for r in runs}) == 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a finished run's result folder (tradeoff run --out DIR: DIR/<name>)")
    parser.add_argument("scenario", type=Path, help="the scenario YAML the run was made from")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV, alternating with this code")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="report_write-") as tmp:
        figures = [str(args.folder.resolve()), str(args.scenario.resolve())]
        runs = alternated(args.before, Path(tmp), args.repeats,
                          lambda code: child_figures(code, CHILD, figures, "/tmp/nc_report_write"))
    for label, side in runs.items():
        print(line(side, args.scenario, label))
        print(f"  page {side[0]['bytes']} bytes, byte-identical across repeats: {identical(side)}, "
              f"matplotlib imported before timing: {any(r['matplotlib_preloaded'] for r in side)}")
    if args.before:
        same = runs["_before"][0]["sha256"] == runs["_after"][0]["sha256"]
        print(f"  before and after pages byte-identical: {same}")


if __name__ == "__main__":
    main()
