"""Throughput of the simulation engines, in policy-periods per CPU second (candidates x periods / s).

On one scenario equivalent to ../shared/bench/limit_kernel.py (one SKU, Poisson demand of mean 10,
fixed lead time 3, lost sales, continuous-review sS grid from the same generator, 3650 periods,
one replication), in ONE process and in CPU time (time.process_time), three sides are timed in
turn, --repeats times (order kernel, limit, SimPy in every repeat, so a busy moment on a shared
machine falls on all sides alike):

    kernel  simulation.kernel.simulate_sku on --candidates candidates (its streams included)
    limit   limit_kernel.simulate (imported from ../shared/bench/limit_kernel.py) on the same grid
    simpy   simulation.simpy_model.simulate_sku on the first --simpy-candidates candidates

Set-up is outside the timed region: scenario validation, policy encoding, the limit loop's demand
and grid, and compilation (or loading numba's cache) of both compiled loops are done first; the
SimPy run's counters are checked against the kernel's for the same candidates. Each sample is a
number of calls fixed in set-up so that it lasts at least --min-cpu CPU seconds (short samples are
at the mercy of one interruption); rates are per call. Prints the median
rate of each side, then the ratios per repeat (kernel time and the other side's time from the same
repeat) as median, min and max, and their spread (max - min) / median:

    simpy_policy_periods_per_cpu_s <median>
    limit_policy_periods_per_cpu_s <median>
    kernel_policy_periods_per_cpu_s <median>
    kernel_vs_limit median <r> min <r> max <r> spread <%>  (repeats=<n>)
    kernel_vs_simpy median <r> min <r> max <r> spread <%>  (repeats=<n>)
    cpu_seconds_timed <s>  load_avg <1-min at start> -> <1-min at end>

    .venv/bin/python benchmarks/kernel_throughput.py
    .venv/bin/python benchmarks/kernel_throughput.py --repeats 9
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.schema import Scenario  # noqa: E402
from simulation import kernel, simpy_model  # noqa: E402
from simulation.policy_arrays import policy_arrays  # noqa: E402

LIMIT = Path(__file__).resolve().parents[2] / "shared/bench/limit_kernel.py"


def limit_module():
    """../shared/bench/limit_kernel.py, imported (its numba function compiles or loads its cache on first call)."""
    spec = importlib.util.spec_from_file_location("limit_kernel", LIMIT)
    module = importlib.util.module_from_spec(spec)
    # Registered by name: numba's on-disk cache rebuilds a function's environment by importing its
    # module, and a second run on a warm cache failed to load an unregistered one ('<dynamic>').
    sys.modules["limit_kernel"] = module
    spec.loader.exec_module(module)
    return module


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


def cpu_time(fn, calls: int = 1) -> float:
    """CPU seconds of this process spent in `calls` calls of fn(), per call."""
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def calls_for(fn, min_cpu: float) -> int:
    """How many calls of fn() make a sample of at least min_cpu CPU seconds (set-up: one call timed)."""
    return max(1, int(np.ceil(min_cpu / max(cpu_time(fn), 1e-6))))


def spread_line(name: str, ratios: list[float]) -> str:
    med = statistics.median(ratios)
    lo, hi = min(ratios), max(ratios)
    return (f"{name} median {med:.3f} min {lo:.3f} max {hi:.3f} spread {100 * (hi - lo) / med:.1f}%  "
            f"(repeats={len(ratios)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--simpy-candidates", type=int, default=10)
    parser.add_argument("--periods", type=int, default=3650)
    parser.add_argument("--lead-time", type=int, default=3)
    parser.add_argument("--mean", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=9, help="rounds of kernel, limit, SimPy timed in turn")
    parser.add_argument("--min-cpu", type=float, default=0.3,
                        help="CPU seconds each side's sample lasts at least (calls per sample fixed in set-up)")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    # ---- set-up, not timed
    sc = bench_scenario(args.periods, args.mean, args.lead_time)
    sku = sc.skus[0]
    table = policies(args.candidates, args.mean, args.lead_time)
    arrays = policy_arrays(sc, table)
    few = policy_arrays(sc, table.head(args.simpy_candidates))
    limit = limit_module()
    demand = np.random.default_rng(0).poisson(args.mean, args.periods).astype(np.int64)  # as limit_kernel.py
    s, S = limit.candidates(args.candidates, args.mean, args.lead_time)
    limit.simulate(s[:2], S[:2], demand[:10], args.lead_time)  # compile / load its cache
    expected = kernel.simulate_sku(sc, sku, few, 1, sc.seed)  # compile / load the kernel's cache
    if not np.allclose(simpy_model.simulate_sku(sc, sku, few, 1, sc.seed), expected, rtol=1e-9, atol=0):
        raise SystemExit("SimPy and kernel counters differ on the benchmark scenario")

    def run_kernel():
        kernel.simulate_sku(sc, sku, arrays, 1, sc.seed)

    def run_limit():
        limit.simulate(s, S, demand, args.lead_time)

    def run_simpy():
        simpy_model.simulate_sku(sc, sku, few, 1, sc.seed)

    sides = [(run_kernel, calls_for(run_kernel, args.min_cpu)), (run_limit, calls_for(run_limit, args.min_cpu)),
             (run_simpy, calls_for(run_simpy, args.min_cpu))]

    # ---- timed: the three sides in turn, every repeat; each sample a fixed number of calls
    work = args.candidates * args.periods
    simpy_work = args.simpy_candidates * args.periods
    k_rates, l_rates, s_rates = [], [], []
    for _ in range(args.repeats):
        k_rates.append(work / cpu_time(*sides[0]))
        l_rates.append(work / cpu_time(*sides[1]))
        s_rates.append(simpy_work / cpu_time(*sides[2]))
    timed = sum(n * work / r for (_, n), r in ((sides[0], r) for r in k_rates))
    timed += sum(n * work / r for (_, n), r in ((sides[1], r) for r in l_rates))
    timed += sum(n * simpy_work / r for (_, n), r in ((sides[2], r) for r in s_rates))

    print(f"simpy_policy_periods_per_cpu_s {statistics.median(s_rates):.0f}")
    print(f"limit_policy_periods_per_cpu_s {statistics.median(l_rates):.0f}")
    print(f"kernel_policy_periods_per_cpu_s {statistics.median(k_rates):.0f}")
    print(spread_line("kernel_vs_limit", [k / l for k, l in zip(k_rates, l_rates)]))
    print(spread_line("kernel_vs_simpy", [k / r for k, r in zip(k_rates, s_rates)]))
    print(f"cpu_seconds_timed {timed:.1f}  load_avg {load_start:.2f} -> {os.getloadavg()[0]:.2f}  "
          f"(candidates={args.candidates}, simpy_candidates={args.simpy_candidates}, periods={args.periods}, "
          f"calls per sample kernel/limit/simpy={'/'.join(str(n) for _, n in sides)})")


if __name__ == "__main__":
    main()
