"""Stream set-up of the kernel per (SKU, replication), and its share of the compiled loop's time.

On the first --skus SKUs of scenarios/bench/bench_1000.yaml (its replications and horizon; each
SKU's candidates are those of `optimizer.initial_candidates`, as in the first round of a run, or
the first --per-sku of them, as in later rounds: verification simulates one per SKU), in one
process and in CPU time (time.process_time), the median over --repeats rounds in which the
variants alternate:

    streams   simulation.kernel_streams.stream_batch: every replication of a SKU in one compiled
              call, lead times as many as kernel.lead_guess expects the candidates to read (what
              kernel.simulate_sku does), views per replication included
    all_leads the same with every lead time drawn (T+N+1 per mode, as before lead_guess)
    before    with --before REV: that commit's simulation/kernel_streams.py (read with `git show`),
              its kernel_streams() called once per replication, as simulate_sku did then
    loop      kernel_loop.simulate_replication on the same draws (drawn beforehand)
    no_lead   stream_batch with the lead-time slots not drawn (their plan kinds set to NONE): the
              difference to `all_leads` is what drawing all lead times costs, to `streams` what
              drawing the guessed ones costs

Also counts, over (SKU, replication, used mode), the lead times drawn in all (T+N+1), the ones read
(the most replenishment orders any candidate of that mode places: the k-th order reads the k-th
draw), the ones the guess draws, and the candidates that needed more (run again by simulate_sku).

Compilation (or loading numba's cache) and every set-up are done before the timed rounds. Prints:

    stream_setup_us_per_sku_rep <x>  loop_us_per_sku_rep <y>  share_of_loop <x/y>  (skus=.., candidates=.., ...)
    all_leads_stream_setup_us_per_sku_rep <xa>  share_of_loop <xa/y>  speedup <xa/x>
    lead_time_us_per_sku_rep all <la> guessed <l>  share_of_streams <la/xa> <l/x>  share_of_loop ...
    lead_times_all <d> read <r> guessed <g>  candidates_run_again <c>
    before_stream_setup_us_per_sku_rep <x0>  share_of_loop <x0/y>  speedup <x0/x>  (REV)

    .venv/bin/python benchmarks/streams.py --before c9a13f9
    .venv/bin/python benchmarks/streams.py --before c9a13f9 --per-sku 1
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import initial_candidates  # noqa: E402
from scenarios.loader import load  # noqa: E402
from simulation.counters import N_COUNTERS  # noqa: E402
from simulation.kernel import candidates_of, lead_guess, scenario_constants  # noqa: E402
from simulation.kernel_loop import C_REP_ORDERS, Draws, simulate_candidates, simulate_replication  # noqa: E402
from simulation import stream_draws as sd  # noqa: E402
from simulation.kernel_streams import stream_batch, stream_plan  # noqa: E402
from simulation.policy_arrays import policy_arrays  # noqa: E402


def module_at(rev: str, tmp: Path):
    """simulation/kernel_streams.py of commit `rev`, imported under another name."""
    source = subprocess.run(["git", "show", f"{rev}:simulation/kernel_streams.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = tmp / "kernel_streams_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("kernel_streams_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--per-sku", type=int, default=None, help="candidates per SKU (default: all initial ones)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also time the stream set-up of this commit")
    args = parser.parse_args()

    sc = load(ROOT / "scenarios/bench/bench_1000.yaml")
    skus = sc.skus[:args.skus]
    R, seed = sc.replications, sc.seed
    table = initial_candidates(sc)
    work = []  # (sku, candidates, settings, modes used)
    guesses = []
    for sku in skus:
        rows = table[table["sku"] == sku.id].reset_index(drop=True)
        arrays = policy_arrays(sc, rows if args.per_sku is None else rows.head(args.per_sku))
        work.append((sku, candidates_of(arrays), scenario_constants(sc, sku), {int(m) for m in np.unique(arrays.mode)}))
        guesses.append(lead_guess(arrays, work[-1][2].periods))
    n_candidates = sum(len(c.family) for _, c, _, _ in work)

    def streams_now():
        for (sku, _, _, modes), guess in zip(work, guesses):
            batch = stream_batch(sc, sku, 0, R, seed, modes, lead_guess=guess)
            for r in range(R):
                Draws(*batch.arrays(r))

    def streams_all_leads():
        for sku, _, _, modes in work:
            batch = stream_batch(sc, sku, 0, R, seed, modes)
            for r in range(R):
                Draws(*batch.arrays(r))

    draws = [[Draws(*b.arrays(r)) for r in range(R)]
             for b in (stream_batch(sc, sku, 0, R, seed, modes) for sku, _, _, modes in work)]
    outs = [np.zeros((len(c.family), N_COUNTERS)) for _, c, _, _ in work]

    def loop():
        for (_, candidates, settings, _), ds, out in zip(work, draws, outs):
            for d in ds:
                simulate_replication(candidates, d, settings, out)

    plans_no_lead = []
    for sku, _, _, modes in work:
        plan = stream_plan(sc, sku, modes)
        kinds = plan.kinds.copy()
        kinds[sd.S_LEAD:] = sd.NONE
        plans_no_lead.append(dataclasses.replace(plan, kinds=kinds))

    def streams_no_lead():
        for (sku, _, _, modes), plan in zip(work, plans_no_lead):
            batch = stream_batch(sc, sku, 0, R, seed, modes, plan)
            for r in range(R):
                Draws(*batch.arrays(r))

    # Lead times drawn vs read: the replenishment orders counter of a run without warm-up (so
    # nothing is zeroed) is the number of lead times each candidate reads.
    drawn_leads = read_leads = guessed_leads = run_again = 0
    for (sku, candidates, settings, modes), guess, ds in zip(work, guesses, draws):
        lazy = stream_batch(sc, sku, 0, R, seed, modes, lead_guess=guess)
        for r in range(R):
            guessed_leads += len(modes) * lazy.arrays(r)[8].shape[1]
            out = np.zeros((len(candidates.family), N_COUNTERS))
            run_again += simulate_candidates(candidates, np.ones(len(candidates.family), np.bool_),
                                             Draws(*lazy.arrays(r)), settings, out)
        no_warmup = settings._replace(warmup=0)
        out = np.zeros((len(candidates.family), N_COUNTERS))
        for d in ds:
            simulate_replication(candidates, d, no_warmup, out)
            placed = out[:, C_REP_ORDERS]
            for m in modes:
                drawn_leads += d.lead_time.shape[1]
                read_leads += int(placed[candidates.mode == m].max())

    variants = {"streams": streams_now, "all_leads": streams_all_leads, "no_lead": streams_no_lead, "loop": loop}
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            before = module_at(args.before, Path(tmp))

            def streams_before():
                for sku, _, _, modes in work:
                    for r in range(R):
                        s = before.kernel_streams(sc, sku, r, seed, modes)
                        Draws(*(getattr(s, name) for name in Draws._fields))

            variants["before"] = streams_before
        for fn in variants.values():  # compile / load caches, warm up
            fn()
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeats):
            for name, fn in variants.items():
                start = time.process_time()
                fn()
                times[name].append(time.process_time() - start)
    per = {name: float(np.median(t)) / (len(work) * R) * 1e6 for name, t in times.items()}
    print(f"stream_setup_us_per_sku_rep {per['streams']:.1f}  loop_us_per_sku_rep {per['loop']:.1f}  "
          f"share_of_loop {per['streams'] / per['loop']:.2f}  "
          f"(skus={len(work)}, replications={R}, candidates={n_candidates}, repeats={args.repeats})")
    print(f"all_leads_stream_setup_us_per_sku_rep {per['all_leads']:.1f}  "
          f"share_of_loop {per['all_leads'] / per['loop']:.2f}  speedup {per['all_leads'] / per['streams']:.2f}")
    lead_all, lead = per["all_leads"] - per["no_lead"], per["streams"] - per["no_lead"]
    print(f"lead_time_us_per_sku_rep all {lead_all:.1f} guessed {lead:.1f}  "
          f"share_of_streams {lead_all / per['all_leads']:.2f} {lead / per['streams']:.2f}  "
          f"share_of_loop {lead_all / per['loop']:.2f} {lead / per['loop']:.2f}")
    print(f"lead_times_all {drawn_leads}  read {read_leads} ({read_leads / drawn_leads:.3f})  "
          f"guessed {guessed_leads} ({guessed_leads / drawn_leads:.3f})  candidates_run_again {run_again}")
    if args.before:
        print(f"before_stream_setup_us_per_sku_rep {per['before']:.1f}  share_of_loop {per['before'] / per['loop']:.2f}  "
              f"speedup {per['before'] / per['streams']:.1f}  ({args.before})")


if __name__ == "__main__":
    main()
