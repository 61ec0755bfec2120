"""CPU time of turning a finished run's tables into CSV text, as the `write` stage of `tradeoff run`
pays it (plan.csv, frontier.csv, audit.csv and tiers.csv through tradeoff.results_io.csv_text).

Usage:
    .venv/bin/python -m tradeoff.cli run scenarios/bench/bench_1000.yaml --out /tmp/cw_bench --jobs 1
    .venv/bin/python benchmarks/csv_write.py /tmp/cw_bench/bench_1000 scenarios/bench/bench_1000.yaml \
        [--repeats 5] [--copies K] [--before GIT_REV]

The run's folder is read back with tradeoff.result.read (not timed); with --copies K the plan is
repeated K times with the SKU ids made unique (`<id>#<copy>`), standing for a K-times larger
catalogue. Then only the csv_text calls are timed with time.process_time, in a fresh process per
repeat. Prints the median over the repeats:

    csv_cpu_seconds <median> (min .. max, repeats=N, plan rows R)

With --before REV the same measurement also runs on the code of git revision REV (exported with
`git archive`), the two alternating repeat by repeat; both figures are printed, and whether the two
sides wrote byte-identical text (they must).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from revisions import alternated, child_figures  # noqa: E402  (benchmarks/revisions.py)

CHILD = r"""
import hashlib, json, sys, time
import pandas as pd
folder, scenario, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
from tradeoff.result import read
result = read(folder, scenario, candidates=False)
plan = result.plan
if copies > 1:
    parts = []
    for k in range(copies):
        part = plan.copy()
        part["sku"] = part["sku"].astype(str) + f"#{k}"
        parts.append(part)
    plan = pd.concat(parts, ignore_index=True)
tables = [t for t in (plan, result.frontier, result.audit, getattr(result, "tiers", None)) if t is not None]
from tradeoff.results_io import csv_text
csv_text(result.frontier)  # imports outside the timed region
start = time.process_time()
texts = [csv_text(t) for t in tables]
seconds = time.process_time() - start
digest = hashlib.sha256("".join(texts).encode("utf-8")).hexdigest()
import tradeoff
print(json.dumps({"seconds": seconds, "sha256": digest, "rows": len(plan), "code": tradeoff.__file__}))
"""


def line(runs: list[dict], label: str = "") -> str:
    """`csv_cpu_seconds <median> (min .. max, repeats=N, plan rows R)` for one side's runs."""
    s = [r["seconds"] for r in runs]
    return (f"csv_cpu_seconds{label} {statistics.median(s):.3f} ({min(s):.3f} .. {max(s):.3f}, "
            f"repeats={len(s)}, plan rows {runs[0]['rows']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a finished run's result folder (tradeoff run --out DIR: DIR/<name>)")
    parser.add_argument("scenario", type=Path, help="the scenario YAML the run was made from")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--copies", type=int, default=1, help="repeat the plan K times (unique ids) for a larger table")
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV, alternating with this code")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="csv_write-") as tmp:
        figures = [str(args.folder.resolve()), str(args.scenario.resolve()), str(args.copies)]
        runs = alternated(args.before, Path(tmp), args.repeats,
                          lambda code: child_figures(code, CHILD, figures, "/tmp/nc_csv_write"))
    for label, side in runs.items():
        print(line(side, label))
        print(f"  text byte-identical across repeats: {len({r['sha256'] for r in side}) == 1}")
    if args.before:
        same = runs["_before"][0]["sha256"] == runs["_after"][0]["sha256"]
        print(f"  before and after text byte-identical: {same}")


if __name__ == "__main__":
    main()
