"""How far a plan's own horizon is from the long run: run a scenario as `tradeoff run` does, then
simulate the recommended policies again over a long horizon (default 3650 periods after a warm-up
of 365, 4 replications, the verification seed) and print both costs per period and fill rates:

    in_run_cost_per_period <c>  in_run_fill_rate <f>   (plan.csv: the scenario's own horizon, out of sample)
    long_run_cost_per_period <c>  long_run_fill_rate <f>  (periods=<P> warmup=<W> replications=<R>)
    long_run_over_in_run <ratio>
    chosen_cycles_beyond_warmup <n> of <skus>  fewer_than_3_cycles_in_horizon <n>

A ratio well above 1 means the horizon is too short for the chosen policies' replenishment cycles
(issue 15, point 4): they live partly off the stock a replication starts with.

    .venv/bin/python benchmarks/long_run.py scenarios/examples/retail_dc.yaml
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--periods", type=int, default=3650)
    parser.add_argument("--warmup", type=int, default=365)
    parser.add_argument("--replications", type=int, default=4)
    args = parser.parse_args()

    import scenarios
    import simulation
    from optimizer.candidates import policy_part
    from tradeoff.pipeline import run
    from tradeoff.verify import verification_seed

    result = run(args.scenario)
    plan = result.plan
    sc = result.scenario
    d = plan["demand_per_period"].to_numpy(float)
    print(f"in_run_cost_per_period {plan['cost_total'].sum():.2f}  in_run_fill_rate "
          f"{(plan['fill_rate'] * d).sum() / d.sum():.4f}   (plan.csv: the scenario's own horizon, out of sample)")
    long = scenarios.load(args.scenario, overrides={"horizon.periods": args.periods, "horizon.warmup": args.warmup,
                                                    "replications": args.replications})
    ev = simulation.evaluate(long, policy_part(plan), seed=verification_seed(sc))
    dl = ev["demand_per_period"].to_numpy(float)
    print(f"long_run_cost_per_period {ev['cost_total'].sum():.2f}  long_run_fill_rate "
          f"{(ev['fill_rate'] * dl).sum() / dl.sum():.4f}  (periods={args.periods} warmup={args.warmup} "
          f"replications={args.replications})")
    print(f"long_run_over_in_run {ev['cost_total'].sum() / plan['cost_total'].sum():.4f}")
    fam = plan["family"].to_numpy(object)
    lot = np.where(np.isin(fam, ["sS", "RsS"]), plan["S"] - plan["s"], np.where(fam == "rQ", plan["Q"], 0.0))
    cycle = np.maximum(np.nan_to_num(lot.astype(float)) / np.maximum(d, 1e-12), plan["R"].fillna(0).to_numpy(float))
    print(f"chosen_cycles_beyond_warmup {int((cycle > sc.horizon.warmup).sum())} of {len(plan)}  "
          f"fewer_than_3_cycles_in_horizon {int((3 * cycle > sc.horizon.periods).sum())}")


if __name__ == "__main__":
    main()
