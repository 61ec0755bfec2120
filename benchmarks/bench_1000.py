"""Wall time of simulating the 1,000-SKU bench scenario: 60 candidates per SKU, 365 periods, 10 replications.

Reads scenarios/bench/bench_1000.yaml when it exists; otherwise builds an equivalent scenario here
(1,000 SKUs with Poisson / negative-binomial / compound demand, two modes, mixed reactions,
defection, expedite). Candidates: 60 per SKU over sS, rQ, RS, base_stock, R in {0, 1, 7} and both
modes, around the lead-time demand. The kernel is compiled (or loaded from the on-disk cache) and,
for --jobs > 1, the fork server started (printed as pool_start_seconds) before anything is timed.
The timed part is `simulation.evaluate(..., engine="kernel")` on a local executor of --jobs workers (metrics and costs
included), then, in the same run, the raw counters alone through
`simulation.evaluate.simulate_skus` on a `tradeoff.executors` local pool (scenario sent once per worker, SKUs in chunks); the last
line compares the two. --counters-only times only the second. Prints:

    bench_1000_seconds <wall time>  policy_periods_per_s <rate>  load_avg <1-min>  (<what>, jobs=<n>, ...)
    evaluate_seconds <s>  kernel_only_seconds <s>  evaluate_overhead_seconds <s>  (same run, jobs=<n>)

--run runs the whole `tradeoff run` of scenarios/bench/bench_1000.yaml (its own replications, the
result written to a temporary folder) in this process; use --jobs 1 so that all the work is in this
process's CPU time (child_cpu_seconds shows any that was not). It prints CPU and wall seconds of the
run, CPU and wall seconds per stage (from the run's progress calls), the policy-periods simulated
(every call of the run's Evaluator counted: policy rows x replications x (warmup + periods), by stage
and per SKU, contenders' re-simulation, verification and audit included; the candidates table's
replications column is printed as a cross-check), HiGHS runs and models built
(optimizer.solver.counts()), and the kernel's share of the run: policy-periods simulated / the
kernel's throughput measured in this process (kernel.simulate_sku on 50 of the scenario's SKUs with
their initial candidates, CPU time, --repeats timings before and --repeats after the run, median),
over the run's wall time and over its CPU time. Set-up (candidates and encoding for the throughput
sample, compilation) is outside every timed region.

load_avg is the machine's 1-minute load average at the end: above the core count, other work shared
the cores and the wall time is longer than on an idle machine.

    .venv/bin/python benchmarks/bench_1000.py --jobs 2
    .venv/bin/python benchmarks/bench_1000.py --jobs 1 --run
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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # kernel_throughput, for --run

from scenarios.schema import Scenario, dist_mean  # noqa: E402
from simulation import kernel  # noqa: E402
from simulation.evaluate import simulate_skus  # noqa: E402
from simulation.policy_arrays import policy_arrays  # noqa: E402
from tradeoff.executors import get_executor  # noqa: E402

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


def time_evaluate(sc: Scenario, pool, replications: int) -> tuple[float, int]:
    """Wall time of simulation.evaluate (engine kernel, metrics included) over every SKU's candidates."""
    from simulation import evaluate

    policies = pd.concat([sku_candidates(sc, sku) for sku in sc.skus], ignore_index=True)
    start = time.perf_counter()
    result = evaluate(sc, policies, engine="kernel", replications=replications, executor=pool)
    wall = time.perf_counter() - start
    return wall, len(result)


def start_pool(sc: Scenario, pool) -> float:
    """Start the fork server (engine and evaluate preloaded) with a two-SKU evaluate; its seconds."""
    from simulation import evaluate

    if pool.workers <= 1:
        return 0.0
    start = time.perf_counter()
    two = pd.concat([sku_candidates(sc, sku, n=2) for sku in sc.skus[:2]], ignore_index=True)
    evaluate(sc, two, engine="kernel", replications=1, executor=pool)
    return time.perf_counter() - start


def time_counters(sc: Scenario, pool) -> tuple[float, int]:
    """Wall time of the raw counters alone (simulation.evaluate.simulate_skus), candidates pre-encoded."""
    arrays = {sku.id: policy_arrays(sc, sku_candidates(sc, sku)) for sku in sc.skus}  # not timed
    start = time.perf_counter()
    counters = simulate_skus(sc, arrays, sc.replications, sc.seed, executor=pool)
    wall = time.perf_counter() - start
    return wall, sum(c.shape[0] for c in counters.values())


def kernel_rate_bench(sc: Scenario, sample: list, arrays: dict, repeats: int) -> list[float]:
    """Kernel throughput on the bench scenario itself, policy-periods per CPU second, once per repeat:
    kernel.simulate_sku (its streams included, metrics and costs not) on a sample of SKUs with their
    initial candidates (encoded beforehand), at the scenario's replications."""
    horizon = sc.horizon.periods + sc.horizon.warmup
    rates = []
    for _ in range(repeats):
        work, start = 0, time.process_time()
        for sku in sample:
            counters = kernel.simulate_sku(sc, sku, arrays[sku.id], sc.replications, sc.seed)
            work += counters.shape[0] * counters.shape[1] * horizon
        rates.append(work / (time.process_time() - start))
    return rates


def kernel_rate_limit_world(repeats: int) -> list[float]:
    """Kernel throughput on benchmarks/kernel_throughput.py's scenario (the limit loop's world: one SKU,
    Poisson demand, lost sales, 2000 sS candidates, 3650 periods), policy-periods per CPU second."""
    import kernel_throughput as kt

    sc = kt.bench_scenario(3650, 10.0, 3)
    arrays = policy_arrays(sc, kt.policies(2000, 10.0, 3))
    kernel.simulate_sku(sc, sc.skus[0], arrays, 1, sc.seed)  # compile / load the cache, not timed
    return [2000 * 3650 / kt.cpu_time(lambda: kernel.simulate_sku(sc, sc.skus[0], arrays, 1, sc.seed))
            for _ in range(repeats)]


class RunLedger:
    """Follows a `tradeoff run` from inside its process: CPU and wall seconds per stage (from the run's progress
    calls: (stage, 0, 1) starts a stage, its last (stage, 1, 1) ends it) and every simulation of the
    run's Evaluator (Evaluator.simulate: stage, policy rows per SKU, replications), i.e. every policy
    simulated, including contenders' re-simulation, verification, tightening and audit (the audit's
    current policies are simulated with the verification, so they count in its stage)."""

    def __init__(self):
        self.stage_cpu: dict[str, float] = {}
        self.stage_wall: dict[str, float] = {}
        self.calls: list[tuple[str, pd.Series, int]] = []
        self._open: str | None = None
        self._start = self._end = (0.0, 0.0)

    def progress(self, stage: str, done: int, total: int) -> None:
        now = (time.process_time(), time.perf_counter())
        if done == 0 and total == 1:  # a stage starts (chunk progress is always done >= 1)
            self.close()
            self._open, self._start, self._end = stage, now, now
        elif done == total and stage == self._open:
            self._end = now

    def close(self) -> None:
        if self._open is not None:
            for table, k in ((self.stage_cpu, 0), (self.stage_wall, 1)):
                table[self._open] = table.get(self._open, 0.0) + self._end[k] - self._start[k]
            self._open = None

    def wrap(self, evaluator_class, chunk_class) -> None:
        """Count every simulation call: the head's Evaluator (verification, audit) and the SKU-chunk
        tasks' (tradeoff.search; with --jobs 1 they run in this process)."""
        original, original_chunk = evaluator_class.simulate, chunk_class.simulate
        ledger = self

        def counted(evaluator, policies: pd.DataFrame, replications: int, seed: int):
            ledger.calls.append((ledger._open or "?", policies["sku"].value_counts(), int(replications)))
            return original(evaluator, policies, replications, seed)

        def counted_chunk(chunk, policies: pd.DataFrame, replications: int):
            ledger.calls.append((ledger._open or "?", policies["sku"].value_counts(), int(replications)))
            return original_chunk(chunk, policies, replications)

        evaluator_class.simulate = counted
        chunk_class.simulate = counted_chunk

        def unwrap() -> None:
            evaluator_class.simulate = original
            chunk_class.simulate = original_chunk

        self.unwrap = unwrap


def time_run(jobs: int, repeats: int) -> None:
    """The whole `tradeoff run` on the bench scenario, in this process: CPU and wall seconds, stages,
    policy-periods simulated, HiGHS runs and models built, and the kernel's share of the run."""
    import statistics
    import tempfile

    import optimizer
    from optimizer import solver
    from tradeoff import pipeline, search
    from tradeoff.pipeline import run

    if not BENCH_YAML.exists():
        raise SystemExit(f"--run needs {BENCH_YAML}")
    sc = load_scenario()  # the scenario as the run reads it (its own replications)
    horizon = sc.horizon.periods + sc.horizon.warmup
    # Set-up for the in-process kernel throughput, not timed: a sample of 50 SKUs, initial candidates encoded.
    sample = sc.skus[:: max(1, len(sc.skus) // 50)]
    initial = optimizer.initial_candidates(sc)
    arrays = {sku.id: policy_arrays(sc, initial[initial["sku"] == sku.id]) for sku in sample}
    kernel_rate_bench(sc, sample[:1], arrays, 1)  # compile / load the cache
    rates = kernel_rate_bench(sc, sample, arrays, repeats)
    rates_world = kernel_rate_limit_world(repeats)

    ledger = RunLedger()
    ledger.wrap(pipeline.Evaluator, search._Chunk)
    before = solver.counts()
    children = os.times()
    try:
        with tempfile.TemporaryDirectory() as out:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            result = run(BENCH_YAML, out=Path(out) / "result", jobs=jobs, progress=ledger.progress)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            table = result.candidates  # read back from the result folder before it goes
    finally:
        ledger.unwrap()
    ledger.close()
    after = solver.counts()
    child_cpu = sum(os.times()[2:4]) - sum(children[2:4])
    # The kernel's throughput again, after the run (the two sides alternate: before, run, after).
    rates += kernel_rate_bench(sc, sample, arrays, repeats)
    rates_world += kernel_rate_limit_world(repeats)
    rate, rate_world = statistics.median(rates), statistics.median(rates_world)

    # Policy-periods simulated: every Evaluator call, rows x replications x (warmup + periods).
    per_stage: dict[str, int] = {}
    per_sku = pd.Series(0, index=[s.id for s in result.scenario.skus], dtype="int64")
    for stage, rows, reps in ledger.calls:
        per_stage[stage] = per_stage.get(stage, 0) + int(rows.sum()) * reps * horizon
        per_sku = per_sku.add(rows * reps * horizon, fill_value=0).astype("int64")
    total = int(per_sku.sum())
    in_table = int(table["replications"].sum()) * horizon

    s = result.summary
    print(f"run_cpu_seconds {cpu:.2f}  run_wall_seconds {wall:.2f}  child_cpu_seconds {child_cpu:.2f}  "
          f"load_avg {os.getloadavg()[0]:.2f}  (tradeoff run {BENCH_YAML.relative_to(ROOT)}, jobs={jobs}, "
          f"in this process, result written to a temporary folder)")
    print("stages_wall_seconds " + "  ".join(f"{k}={v:.2f}" for k, v in ledger.stage_wall.items())
          + f"  (of write: report={s['timings'].get('report', float('nan')):.2f}, summary.json timings)")
    print("stages_cpu_seconds  " + "  ".join(f"{k}={v:.2f}" for k, v in ledger.stage_cpu.items()))
    print(f"policy_periods {total}  per_sku mean {per_sku.mean():.0f} min {per_sku.min()} "
          f"median {per_sku.median():.0f} max {per_sku.max()}  (skus={len(per_sku)}, warmup+periods={horizon}, "
          f"evaluator calls={len(ledger.calls)}, policy rows simulated={sum(int(r.sum()) for _, r, _ in ledger.calls)}, "
          f"summary simulations={s.get('simulations')})")
    print("policy_periods_by_stage " + "  ".join(f"{k}={v}" for k, v in per_stage.items())
          + "  (rows x replications x (warmup+periods) per call: "
          + ", ".join(f"{k} {int(r.sum())}x{n}" for k, r, n in ledger.calls) + ")")
    print(f"candidates_table_policy_periods {in_table}  (candidates.csv rows={len(table)}, rounds 0-"
          f"{int(table['round'].max())}, sum of its replications column x {horizon}: contenders counted once, at "
          f"their re-simulated replications; verification, tightening and audit are not in the table)")
    print(f"highs_runs {after['highs_calls'] - before['highs_calls']}  models_built {after['builds'] - before['builds']}"
          f"  (optimizer.solver.counts() before and after the run)")
    print(f"kernel_policy_periods_per_cpu_s {rate:.0f}  (bench scenario: kernel.simulate_sku on {len(sample)} SKUs' "
          f"initial candidates, {sc.replications} replications, streams included, metrics not; median of "
          f"{len(rates)}: {repeats} before and {repeats} after the run, min {min(rates):.0f} max {max(rates):.0f})")
    print(f"kernel_share_of_run wall {total / rate / wall:.3f}  cpu {total / rate / cpu:.3f}  "
          f"(policy_periods / kernel_policy_periods_per_cpu_s = {total / rate:.2f} s)")
    print(f"kernel_policy_periods_per_cpu_s_limit_world {rate_world:.0f}  kernel_share_of_run wall "
          f"{total / rate_world / wall:.3f}  cpu {total / rate_world / cpu:.3f}  (throughput on "
          f"kernel_throughput.py's one-SKU limit-loop scenario, same repeats)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--replications", type=int, default=10, help="replications (the issue's figure: 10)")
    parser.add_argument("--counters-only", action="store_true",
                        help="time only the kernel's raw counters (simulation.evaluate.simulate_skus)")
    parser.add_argument("--run", action="store_true",
                        help="time the whole `tradeoff run` of the bench scenario (its own replications), in this process")
    parser.add_argument("--repeats", type=int, default=3,
                        help="with --run: kernel throughput timings before and (as many) after the run")
    args = parser.parse_args()
    if args.run:
        time_run(args.jobs, args.repeats)
        return
    sc = load_scenario().model_copy(update={"replications": args.replications})
    simulate_chunk((sc, 0, 1, [policy_arrays(sc, sku_candidates(sc, sc.skus[0]))]))  # compile / load cache
    pool = get_executor("local", jobs=args.jobs)  # one pool for every timed part (the scenario shared once)
    pool_start = start_pool(sc, pool)
    periods = sc.replications * (sc.horizon.periods + sc.horizon.warmup)
    if not args.counters_only:
        wall_evaluate, rows = time_evaluate(sc, pool, args.replications)
        print(f"bench_1000_seconds {wall_evaluate:.2f}  policy_periods_per_s {rows * periods / wall_evaluate:.0f}  "
              f"load_avg {os.getloadavg()[0]:.1f}  "
              f"(simulation.evaluate, jobs={args.jobs}, skus={len(sc.skus)}, candidates={rows}, "
              f"pool_start_seconds={pool_start:.2f}, not included)")
    wall, rows = time_counters(sc, pool)
    print(f"bench_1000_seconds {wall:.2f}  policy_periods_per_s {rows * periods / wall:.0f}  "
          f"load_avg {os.getloadavg()[0]:.1f}  "
          f"(simulate_skus, counters only, jobs={args.jobs}, skus={len(sc.skus)}, candidates={rows})")
    if not args.counters_only:
        print(f"evaluate_seconds {wall_evaluate:.2f}  kernel_only_seconds {wall:.2f}  "
              f"evaluate_overhead_seconds {wall_evaluate - wall:.2f}  (same run, jobs={args.jobs})")
    pool.close()


if __name__ == "__main__":
    main()
