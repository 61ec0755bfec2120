"""Wall time of `tradeoff run` per stage, and the selection bias that verification removes.

Usage: .venv/bin/python benchmarks/run_stages.py [SCENARIO ...] [--jobs N] [--engine kernel|simpy]
(default: scenarios/examples/retail_dc.yaml). Nothing is written to disk. Prints, per scenario: SKUs,
candidates simulated, policy evaluations in all, refine rounds, seconds per stage, and the plan's
total cost per period in sample (the selection's own, biased low) against out of sample, and the rules
the first plan and the final plan (after tightening, tradeoff/tightening.py) miss out of sample.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=[str(ROOT / "scenarios/examples/retail_dc.yaml")])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--engine", default="kernel", choices=("kernel", "simpy"))
    args = parser.parse_args()

    from tradeoff.pipeline import run

    for path in args.scenarios:
        start = time.perf_counter()
        result = run(path, engine=args.engine, jobs=args.jobs)
        wall = time.perf_counter() - start
        s = result.summary
        inside, outside = s["totals_in_sample"]["cost_total"], s["totals"]["cost_total"]
        print(f"{Path(path).name}: {s['skus']} SKUs, engine {args.engine}, jobs {args.jobs}, wall {wall:.1f} s")
        print(f"  candidates {s['candidates']}, evaluations in all {s['simulations']}, refine rounds {s['refine_rounds']}, "
              f"verification {s['verification']['replications']} replications")
        print("  seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in s["timings"].items()))
        print(f"  cost_total per period: in sample {inside:.2f}, out of sample {outside:.2f} "
              f"({100 * (outside - inside) / inside:+.2f} %); {s['service']['metric']} in sample "
              f"{s['service']['achieved_in_sample']:.4f}, out of sample {s['service']['achieved']:.4f}")
        v = s["verification"]
        print(f"  rules missed out of sample: first plan {v.get('rules_missed_first_plan') or 'none'}, "
              f"final plan {s['service']['rules_missed'] or 'none'}; tightening rounds {len(v.get('tightening', []))}")


if __name__ == "__main__":
    main()
