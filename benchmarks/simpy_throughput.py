"""Throughput of the SimPy reference engine on a subset of the 1,000-SKU bench scenario.

Simulates the raw counters of --skus SKUs spread evenly over scenarios/bench/bench_1000.yaml (or,
when it is missing, the equivalent generated scenario of benchmarks/bench_1000.py), each with the
same 60 candidates as benchmarks/bench_1000.py (sS, rQ, RS, base_stock; R in {0, 1, 7}; both
modes), every replication of the scenario, warm-up included. Prints

    simpy_sku_candidate_periods_per_s <rate>  (skus=<n> candidates=<n> replications=<n> periods=<T> seconds=<s>)

and, with --kernel, the kernel's rate on the same SKUs and candidates and the speed-up:

    kernel_sku_candidate_periods_per_s <rate>  speedup_vs_simpy <ratio>

A "SKU-candidate-period" is one simulated period of one candidate policy of one SKU in one
replication.

    .venv/bin/python benchmarks/simpy_throughput.py --skus 10 [--kernel]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import simpy_model  # noqa: E402
from simulation.policy_arrays import policy_arrays  # noqa: E402


def bench_module():
    """benchmarks/bench_1000.py, for its scenario loader and candidate grid (one definition)."""
    spec = importlib.util.spec_from_file_location("bench_1000", ROOT / "benchmarks/bench_1000.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(engine_fn, sc, skus, candidates) -> tuple[float, int]:
    """Wall time and SKU-candidate-periods of simulating every chosen SKU's candidates."""
    T = sc.horizon.warmup + sc.horizon.periods
    done = 0
    start = time.perf_counter()
    for sku in skus:
        arrays = policy_arrays(sc, candidates(sc, sku))
        counters = engine_fn(sc, sku, arrays, sc.replications, sc.seed)
        done += counters.shape[0] * counters.shape[1] * T
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10, help="SKUs simulated, spread evenly over the catalogue")
    parser.add_argument("--kernel", action="store_true", help="also time the numba kernel on the same work")
    args = parser.parse_args()
    bench = bench_module()
    sc = bench.load_scenario()
    step = max(1, len(sc.skus) // args.skus)
    skus = list(sc.skus[::step][: args.skus])
    wall, done = run(simpy_model.simulate_sku, sc, skus, bench.sku_candidates)
    n_cand = len(bench.sku_candidates(sc, skus[0]))
    T = sc.horizon.warmup + sc.horizon.periods
    simpy_rate = done / wall
    print(f"simpy_sku_candidate_periods_per_s {simpy_rate:.0f}  (skus={len(skus)} candidates={n_cand} "
          f"replications={sc.replications} periods={T} seconds={wall:.2f})")
    if args.kernel:
        from simulation import kernel

        run(kernel.simulate_sku, sc, skus[:1], bench.sku_candidates)  # compile / load the cache first
        k_wall, k_done = run(kernel.simulate_sku, sc, skus, bench.sku_candidates)
        print(f"kernel_sku_candidate_periods_per_s {k_done / k_wall:.0f}  speedup_vs_simpy {(k_done / k_wall) / simpy_rate:.1f}")


if __name__ == "__main__":
    main()
