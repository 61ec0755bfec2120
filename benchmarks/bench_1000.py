"""Wall time of simulating the 1,000-SKU bench scenario: 60 candidates per SKU, 365 periods, 10 replications.

Reads scenarios/bench/bench_1000.yaml when it exists; otherwise builds an equivalent scenario here
(1,000 SKUs with Poisson / negative-binomial / compound demand, two modes, mixed reactions,
defection, expedite). Candidates: 60 per SKU over sS, rQ, RS, base_stock, R in {0, 1, 7} and both
modes, around the lead-time demand. The kernel is compiled (or loaded from the on-disk cache) and,
for --jobs > 1, the fork server started (printed as pool_start_seconds) before anything is timed.
The timed part is `simulation.evaluate(..., engine="kernel", jobs=--jobs)` (metrics and costs
included), then, in the same run, the raw counters alone through
`simulation.kernel_pool.simulate_skus` (scenario sent once per worker, SKUs in chunks); the last
line compares the two. --counters-only times only the second; --run times the whole
`tradeoff run` of the bench scenario (its own replications) with its stages. Prints:

    bench_1000_seconds <wall time>  policy_periods_per_s <rate>  load_avg <1-min>  (<what>, jobs=<n>, ...)
    evaluate_seconds <s>  kernel_only_seconds <s>  evaluate_overhead_seconds <s>  (same run, jobs=<n>)
    run_seconds <s>  stages <stage>=<s> ...  load_avg <1-min>  (tradeoff run, jobs=<n>)

load_avg is the machine's 1-minute load average at the end: above the core count, other work shared
the cores and the wall time is longer than on an idle machine.

    .venv/bin/python benchmarks/bench_1000.py --jobs 2
    .venv/bin/python benchmarks/bench_1000.py --jobs 2 --run
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.schema import Scenario, dist_mean  # noqa: E402
from simulation import kernel  # noqa: E402
from simulation.kernel_pool import simulate_skus  # noqa: E402
from simulation.policy_arrays import policy_arrays  # noqa: E402

BENCH_YAML = ROOT / "scenarios/bench/bench_1000.yaml"


def generated_scenario(n_skus: int = 1000, seed: int = 1) -> Scenario:
    """A 1,000-SKU scenario like the bench one (used until scenarios/bench/bench_1000.yaml exists)."""
    g = np.random.default_rng(seed)
    skus = []
    for i in range(n_skus):
        mean = float(np.round(np.exp(g.uniform(np.log(0.5), np.log(60))), 2))
        kind = i % 4
        if kind == 3:
            demand = dict(dist="compound", orders=dict(dist="poisson", mean=round(mean / 4 + 0.1, 2)),
                          size=dict(dist="uniform", low=1, high=7))
        elif kind == 2 and mean > 1:
            demand = dict(dist="negbin", mean=mean, cv=round(1 / np.sqrt(mean) + 0.3, 3))
        else:
            demand = dict(dist="poisson", mean=mean)
        cost = float(np.round(g.uniform(2, 200), 2))
        skus.append(dict(id=f"SKU-{i:04d}", unit_cost=cost, price=round(cost * g.uniform(1.2, 2.0), 2),
                         demand=demand, customers=int(g.integers(5, 60))))
    return Scenario.model_validate(
        dict(
            format=1, name="bench-1000", seed=7,
            horizon=dict(periods=365, warmup=0), replications=10,
            costs=dict(order_cost=40.0, backorder_per_unit=1.0),
            customer_reaction=dict(wait=0.5, substitute=0.2, lost_sale=0.3,
                                   repeated_stockout=dict(window=60, threshold=2, defect_probability=0.2)),
            order_cycle=dict(transmittal=dict(dist="uniform", low=0, high=1), processing=0.5, delivery=1, promised=3),
            transport=[
                dict(name="truck", lead_time=dict(dist="gamma", mean=5, cv=0.3), cost_per_shipment=300,
                     cost_per_unit=0.4, vehicle_capacity=2000),
                dict(name="air", lead_time=1, cost_per_shipment=900, cost_per_unit=3.0),
            ],
            expedite=dict(mode="air"),
            skus=skus,
        )
    )


def load_scenario() -> Scenario:
    if BENCH_YAML.exists():
        import scenarios

        return scenarios.load(BENCH_YAML)
    return generated_scenario()


def sku_candidates(sc: Scenario, sku, n: int = 60) -> pd.DataFrame:
    """n candidates for one SKU: families x review periods x modes, levels around lead-time demand."""
    m = dist_mean(sku.demand)
    rows = []
    combos = [(f, R, mode.name) for f in ("sS", "rQ", "RS", "base_stock") for R in (0, 1, 7)
              for mode in sc.transport if not (f == "RS" and R == 0)]
    k = 0
    while len(rows) < n:
        family, R, mode = combos[k % len(combos)]
        scale = 1 + k // len(combos)
        lead = dist_mean(sc.mode(mode).lead_time)
        base = m * (lead + max(R, 1)) * (0.6 + 0.25 * scale)
        s = float(np.floor(base))
        S = float(np.floor(base + max(1.0, m * 3)))
        Q = float(max(1.0, np.floor(m * 3)))
        rows.append(dict(sku=sku.id, family=family, mode=mode, s=s if family in ("sS", "rQ") else np.nan,
                         S=S if family != "rQ" else np.nan, Q=Q if family == "rQ" else np.nan, R=R, cap=np.nan))
        k += 1
    return pd.DataFrame(rows)


def simulate_chunk(args) -> int:
    """Worker: raw counters of a slice of SKUs, candidates given as PolicyArrays (returns policy-periods)."""
    sc, lo, hi, arrays = args
    done = 0
    for sku, a in zip(sc.skus[lo:hi], arrays):
        counters = kernel.simulate_sku(sc, sku, a, sc.replications, sc.seed)
        done += counters.shape[0] * counters.shape[1] * (sc.horizon.periods + sc.horizon.warmup)
    return done


def time_evaluate(sc: Scenario, jobs: int, replications: int) -> tuple[float, int]:
    """Wall time of simulation.evaluate (engine kernel, metrics included) over every SKU's candidates."""
    from simulation import evaluate

    policies = pd.concat([sku_candidates(sc, sku) for sku in sc.skus], ignore_index=True)
    start = time.perf_counter()
    result = evaluate(sc, policies, engine="kernel", jobs=jobs, replications=replications)
    wall = time.perf_counter() - start
    return wall, len(result)


def start_pool(sc: Scenario, jobs: int) -> float:
    """Start the fork server (engine and evaluate preloaded) with a two-SKU evaluate; its seconds."""
    from simulation import evaluate

    if jobs <= 1:
        return 0.0
    start = time.perf_counter()
    two = pd.concat([sku_candidates(sc, sku, n=2) for sku in sc.skus[:2]], ignore_index=True)
    evaluate(sc, two, engine="kernel", jobs=jobs, replications=1)
    return time.perf_counter() - start


def time_counters(sc: Scenario, jobs: int) -> tuple[float, int]:
    """Wall time of the raw counters alone (kernel_pool.simulate_skus), candidates pre-encoded."""
    arrays = {sku.id: policy_arrays(sc, sku_candidates(sc, sku)) for sku in sc.skus}  # not timed
    start = time.perf_counter()
    counters = simulate_skus(sc, arrays, sc.replications, sc.seed, jobs=jobs)
    wall = time.perf_counter() - start
    return wall, sum(c.shape[0] for c in counters.values())


def time_run(jobs: int) -> None:
    """Wall time of the whole `tradeoff run` on the bench scenario, with its stages (summary timings)."""
    import tempfile

    from tradeoff.pipeline import run

    source = BENCH_YAML if BENCH_YAML.exists() else None
    with tempfile.TemporaryDirectory() as out:
        if source is None:  # the generated scenario, as a file for the loader
            import yaml

            source = Path(out) / "bench-1000.yaml"
            source.write_text(yaml.safe_dump(generated_scenario().model_dump(mode="json", by_alias=True, exclude_none=True)))
        start = time.perf_counter()
        result = run(source, out=Path(out) / "result", jobs=jobs)
        wall = time.perf_counter() - start
    stages = "  ".join(f"{name}={seconds:.1f}" for name, seconds in result.summary["timings"].items())
    print(f"run_seconds {wall:.2f}  stages {stages}  load_avg {os.getloadavg()[0]:.1f}  "
          f"(tradeoff run, jobs={jobs}, skus={len(result.scenario.skus)}, candidates={len(result.candidates)}, "
          f"simulated_rows={result.summary.get('simulations')})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--replications", type=int, default=10, help="replications (the issue's figure: 10)")
    parser.add_argument("--counters-only", action="store_true",
                        help="time only the kernel's raw counters (simulation.kernel_pool.simulate_skus)")
    parser.add_argument("--run", action="store_true",
                        help="time the whole `tradeoff run` of the bench scenario, with its stages")
    args = parser.parse_args()
    sc = load_scenario().model_copy(update={"replications": args.replications})
    simulate_chunk((sc, 0, 1, [policy_arrays(sc, sku_candidates(sc, sc.skus[0]))]))  # compile / load cache
    if args.run:
        time_run(args.jobs)
        return
    pool_start = start_pool(sc, args.jobs)
    periods = sc.replications * (sc.horizon.periods + sc.horizon.warmup)
    if not args.counters_only:
        wall_evaluate, rows = time_evaluate(sc, args.jobs, args.replications)
        print(f"bench_1000_seconds {wall_evaluate:.2f}  policy_periods_per_s {rows * periods / wall_evaluate:.0f}  "
              f"load_avg {os.getloadavg()[0]:.1f}  "
              f"(simulation.evaluate, jobs={args.jobs}, skus={len(sc.skus)}, candidates={rows}, "
              f"pool_start_seconds={pool_start:.2f}, not included)")
    wall, rows = time_counters(sc, args.jobs)
    print(f"bench_1000_seconds {wall:.2f}  policy_periods_per_s {rows * periods / wall:.0f}  "
          f"load_avg {os.getloadavg()[0]:.1f}  "
          f"(kernel_pool.simulate_skus, counters only, jobs={args.jobs}, skus={len(sc.skus)}, candidates={rows})")
    if not args.counters_only:
        print(f"evaluate_seconds {wall_evaluate:.2f}  kernel_only_seconds {wall:.2f}  "
              f"evaluate_overhead_seconds {wall_evaluate - wall:.2f}  (same run, jobs={args.jobs})")


if __name__ == "__main__":
    main()
