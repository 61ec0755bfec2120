"""Throughput of the simulation engines, in policy-periods per second (candidates x periods / s).

On one scenario equivalent to ../shared/bench/limit_kernel.py (one SKU, Poisson demand of mean 10,
fixed lead time 3, lost sales, continuous-review sS grid from the same generator, 3650 periods,
one replication) this prints three lines:

    simpy_policy_periods_per_s <n>      the SimPy reference model (on the first --simpy-candidates)
    kernel_policy_periods_per_s <n> kernel_vs_simpy <ratio>
    kernel_vs_limit <ratio>             kernel / the limit loop, run in this same process's python

Both engines read the same draws and candidates; the SimPy run's counters are checked against the
kernel's for the same candidates. Compilation is done (or loaded from the on-disk cache) first.
Kernel timing (best of 3) and the limit script (best of its 3) alternate --rounds times; the best of
each is kept, so a busy moment on a shared machine does not bias the ratio.

    .venv/bin/python benchmarks/kernel_throughput.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.schema import Scenario  # noqa: E402
from simulation import kernel  # noqa: E402
from simulation.policy_arrays import policy_arrays  # noqa: E402

LIMIT = Path(__file__).resolve().parents[2] / "shared/bench/limit_kernel.py"


def limit_candidates(n: int, mean: float, lead_time: int) -> tuple[np.ndarray, np.ndarray]:
    """The (s, S) grid of limit_kernel.py (same formula)."""
    base = int(mean * (lead_time + 1))
    s = base // 2 + np.arange(n) % 50
    S = s + 1 + (np.arange(n) // 50) % 80
    return s.astype(np.int64), S.astype(np.int64)


def bench_scenario(periods: int, mean: float, lead_time: int) -> Scenario:
    """One SKU, Poisson demand, fixed lead time, lost sales: the limit loop's world."""
    return Scenario.model_validate(
        dict(
            format=1,
            name="throughput",
            seed=0,
            horizon=dict(periods=periods, warmup=0),
            replications=1,
            customer_reaction=dict(wait=0.0, substitute=0.0, lost_sale=1.0),
            transport=[dict(name="truck", lead_time=lead_time)],
            skus=[dict(id="x", unit_cost=1.0, price=2.0, demand=dict(dist="poisson", mean=mean))],
        )
    )


def policies(n: int, mean: float, lead_time: int) -> pd.DataFrame:
    """Continuous-review sS candidates on the limit loop's grid."""
    s, S = limit_candidates(n, mean, lead_time)
    return pd.DataFrame(
        dict(sku="x", family="sS", mode="truck", s=s.astype(float), S=S.astype(float), Q=np.nan, R=0, cap=np.nan)
    )


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--simpy-candidates", type=int, default=10)
    parser.add_argument("--periods", type=int, default=3650)
    parser.add_argument("--lead-time", type=int, default=3)
    parser.add_argument("--mean", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of kernel and limit timing")
    args = parser.parse_args()

    sc = bench_scenario(args.periods, args.mean, args.lead_time)
    sku = sc.skus[0]
    arrays = policy_arrays(sc, policies(args.candidates, args.mean, args.lead_time))
    few = policy_arrays(sc, policies(args.candidates, args.mean, args.lead_time).head(args.simpy_candidates))

    kernel.simulate_sku(sc, sku, few, 1, sc.seed)  # compile (or load the cache) outside the timing

    from simulation import simpy_model

    result = {}
    s_time = best_time(lambda: result.setdefault("r", simpy_model.simulate_sku(sc, sku, few, 1, sc.seed)), 1)
    s_rate = args.simpy_candidates * args.periods / s_time
    expected = kernel.simulate_sku(sc, sku, few, 1, sc.seed)
    if not np.allclose(result["r"], expected, rtol=1e-9, atol=0):
        raise SystemExit("SimPy and kernel counters differ on the benchmark scenario")

    # Kernel and limit loop alternate for a few rounds and the best of each is kept, so that a busy
    # moment on a shared machine does not fall on one side only.
    k_time, limit_rate = float("inf"), 0.0
    for _ in range(args.rounds):
        k_time = min(k_time, best_time(lambda: kernel.simulate_sku(sc, sku, arrays, 1, sc.seed), 3))
        limit = subprocess.run(
            [sys.executable, str(LIMIT), "--candidates", str(args.candidates), "--periods", str(args.periods),
             "--lead-time", str(args.lead_time), "--mean", str(args.mean)],
            capture_output=True, text=True, check=True,
        )
        limit_rate = max(limit_rate, float(limit.stdout.split()[-1]))
    k_rate = args.candidates * args.periods / k_time

    print(f"simpy_policy_periods_per_s {s_rate:.0f}")
    print(f"kernel_policy_periods_per_s {k_rate:.0f} kernel_vs_simpy {k_rate / s_rate:.1f}")
    print(f"kernel_vs_limit {k_rate / limit_rate:.3f}")


if __name__ == "__main__":
    main()
