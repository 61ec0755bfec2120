"""Plan quality: the out-of-sample cost of the recommended plan, with its 95 % half-width, on the bench
scenario and every shipped example, so that two commits can be compared (a change to the search may
move a plan, but not make it worse than the noise).

    .venv/bin/python benchmarks/quality.py            # bench_1000 and scenarios/examples/*.yaml
    .venv/bin/python benchmarks/quality.py --skip-bench
    .venv/bin/python benchmarks/quality.py scenarios/examples/retail_dc.yaml   # these scenarios only

Prints one line per scenario:

    quality <scenario> cost_per_period <c> ci95 <h> logistics <l> service <metric> <achieved> (target <t>) candidates <n>

cost_per_period is summary.json's totals.cost_total (out of sample, fresh streams: scenario seed +
1000003); ci95 is the half-width of that total, sqrt(sum over SKUs of cost_total_ci^2) (SKUs have
independent streams, so their half-widths add in quadrature). With a service target the engine
minimises logistics cost (cost_total - cost_shortage) under the target: compare `logistics` there. Runs in this process with --jobs 1 and
no result folder; the code is the checkout this file is in (its root is put first on sys.path), so a
copy of this file in another checkout measures that checkout.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradeoff.pipeline import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path, help="these scenarios only (default: bench and examples)")
    parser.add_argument("--skip-bench", action="store_true", help="only the shipped examples")
    args = parser.parse_args()
    paths = [] if args.skip_bench else [ROOT / "scenarios/bench/bench_1000.yaml"]
    paths += sorted((ROOT / "scenarios/examples").glob("*.yaml"))
    if args.scenarios:
        paths = [p.resolve() for p in args.scenarios]
    for path in paths:
        result = run(path, jobs=1)
        s = result.summary
        plan = result.plan
        ci = math.sqrt(float((plan["cost_total_ci"].fillna(0.0) ** 2).sum()))
        service = s["service"]
        target = service.get("target")
        print(f"quality {path.stem} cost_per_period {s['totals']['cost_total']:.2f} ci95 {ci:.2f} "
              f"logistics {s['totals']['cost_logistics']:.2f} "
              f"service {service['metric']} {service['achieved']:.4f} (target {target if target is not None else 'none'}) "
              f"candidates {s['candidates']}", flush=True)


if __name__ == "__main__":
    main()
