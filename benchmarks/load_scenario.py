"""CPU time of `scenarios.load` on a generated benchmark scenario of N SKUs (its SKUs in a CSV).

Usage:
    .venv/bin/python benchmarks/load_scenario.py [--n 10000] [--repeats 5] [--before GIT_REV]

The scenario is generated once into a temporary folder (scenarios/bench/make_bench.py, not timed).
Each repeat is a fresh Python process that loads it once untimed (imports, compiled patterns, the OS
file cache) and then times one more `scenarios.load(path)` with time.process_time. Loading is part of
the serial work of the head process of a run, so its cost per SKU limits how far a run scales out.
Prints the median over the repeats and whether every repeat gave the same scenario:

    load_cpu_seconds <median> (min .. max, repeats=N, skus=N)
      content_hash <hash>, same scenario in every repeat: True

With --before REV the same measurement also runs on the code of git revision REV (exported with
`git archive` into a temporary folder, so the repository is left as it is), the two alternating
repeat by repeat so that both see the same machine load; both figures are printed with their ratio,
and whether both sides loaded the same scenario (model_dump and content hash).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scenarios" / "bench"))
from make_bench import write_bench  # noqa: E402
from revisions import alternated, child_figures  # noqa: E402  (benchmarks/revisions.py)

# Runs in a fresh process whose working folder is the code to measure: load untimed, then timed.
CHILD = r"""
import hashlib, json, sys, time
import scenarios
from scenarios.hashing import content_hash
scenarios.load(sys.argv[1])
start = time.process_time()
scenario = scenarios.load(sys.argv[1])
seconds = time.process_time() - start
dump = repr(scenario.model_dump()).encode("utf-8")
print(json.dumps({"seconds": seconds, "skus": len(scenario.skus), "content_hash": content_hash(scenario),
                  "dump_sha256": hashlib.sha256(dump).hexdigest(), "code": scenarios.__file__}))
"""


def line(runs: list[dict], label: str = "") -> str:
    """`load_cpu_seconds<label> <median> (min .. max, repeats=N, skus=N)` for one side's runs."""
    s = [r["seconds"] for r in runs]
    return (f"load_cpu_seconds{label} {statistics.median(s):.3f} ({min(s):.3f} .. {max(s):.3f}, "
            f"repeats={len(s)}, skus={runs[0]['skus']})")


def same_scenario(runs: list[dict]) -> bool:
    return len({(r["content_hash"], r["dump_sha256"]) for r in runs}) == 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of SKUs of the generated scenario")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV, alternating with this code")
    args = parser.parse_args()
    if args.n < 1 or args.repeats < 1:
        parser.error("--n and --repeats must be >= 1")

    with tempfile.TemporaryDirectory(prefix="load_scenario-") as tmp:
        scenario, _ = write_bench(args.n, os.path.join(tmp, "bench", f"bench_{args.n}.yaml"))
        path = Path(scenario)
        runs = alternated(args.before, Path(tmp), args.repeats,
                          lambda code: child_figures(code, CHILD, [str(path.resolve())], "/tmp/nc_load_scenario"))
    for label, side in runs.items():
        print(line(side, label))
        print(f"  content_hash {side[0]['content_hash']}, same scenario in every repeat: {same_scenario(side)}")
    if args.before:
        before, after = (statistics.median(r["seconds"] for r in runs[k]) for k in ("_before", "_after"))
        print(f"  after / before: {after / before:.2f}")
        print(f"  before and after loaded the same scenario: {same_scenario(runs['_before'] + runs['_after'])}")


if __name__ == "__main__":
    main()
