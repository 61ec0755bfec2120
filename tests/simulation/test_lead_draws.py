"""Lead times drawn on demand: the kernel draws only the lead times its candidates likely read and
draws the rest (the same stream continued) when a candidate needs them, with unchanged results.

The k-th order of a mode reads the k-th draw of the mode's stream, and draw k does not depend on how
many are drawn, so a prefix continued by stream_draws.extend_lead is sku_streams' full row; a
candidate that reads past the prefix is run again on the full rows (kernel.simulate_sku). Results
are pinned by test_kernel_golden.py and test_engine_equality.py; this file checks the pieces.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import initial_candidates
from scenarios.loader import load
from simulation import kernel
from simulation.counters import N_COUNTERS
from simulation.kernel_loop import Draws, simulate_candidates
from simulation.kernel_streams import stream_batch
from simulation.policy_arrays import policy_arrays

ROOT = Path(__file__).resolve().parents[2]


def bench(periods: int = 60):
    return load(ROOT / "scenarios/bench/bench_1000.yaml", overrides=[f"horizon.periods={periods}"])


@pytest.mark.parametrize("guess", [(0, 0, False), (1, 0, False), (3, 0, False), (0, 5, False), (4, 2, True),
                                   (10**9, 0, False), (0, 0, True)])
def test_prefix_and_continuation_equal_all_draws(guess):
    sc = bench()
    T = sc.horizon.warmup + sc.horizon.periods
    for sku in sc.skus[:8]:
        full = stream_batch(sc, sku, 1, 3, sc.seed, {0, 1})
        lazy = stream_batch(sc, sku, 1, 3, sc.seed, {0, 1}, lead_guess=guess)
        for r in range(3):
            ref, got = full.arrays(r), lazy.arrays(r)
            for a, b in zip(ref[:8] + ref[9:], got[:8] + got[9:]):
                np.testing.assert_array_equal(a, b)
            n = ref[1].shape[0]
            width = got[8].shape[1]
            assert got[8].shape[0] == 2 and width <= T + n + 1 and got[8].flags.c_contiguous
            if guess[1] == 0:
                assert width == min(max(guess[0], n + 1 if guess[2] else 0), T + n + 1)
            np.testing.assert_array_equal(got[8], ref[8][:, :width])
            extended = lazy.full_lead(r)
            assert extended.flags.c_contiguous
            np.testing.assert_array_equal(extended, ref[8])
            np.testing.assert_array_equal(lazy.full_lead(r), ref[8])  # the generators were not consumed


def test_other_distributions_continue_exactly():
    sc = load(ROOT / "scenarios/bench/bench_1000.yaml", overrides=[
        "horizon.periods=40",
        "transport[0].lead_time={dist: normal, mean: 3, sd: 1.5}",
        "transport[1].lead_time={dist: empirical, values: [1, 2, 2, 5]}",
    ])
    for lead in ("{dist: poisson, mean: 12}", "{dist: uniform, low: 1, high: 6}", "{dist: negbin, mean: 4, cv: 0.8}",
                 "{dist: gamma, mean: 0.5, cv: 1.5}"):
        s2 = load(ROOT / "scenarios/bench/bench_1000.yaml",
                  overrides=["horizon.periods=40", f"transport[1].lead_time={lead}"])
        for scen in (sc, s2):
            for sku in scen.skus[:3]:
                full = stream_batch(scen, sku, 0, 2, scen.seed, {0, 1})
                lazy = stream_batch(scen, sku, 0, 2, scen.seed, {0, 1}, lead_guess=(7, 0, False))
                for r in range(2):
                    np.testing.assert_array_equal(lazy.arrays(r)[8], full.arrays(r)[8][:, :7])
                    np.testing.assert_array_equal(lazy.full_lead(r), full.arrays(r)[8])


def test_a_candidate_out_of_draws_is_reported_and_its_rerun_equals_all_draws():
    sc = bench()
    rows = initial_candidates(sc)
    for sku in sc.skus[:5]:
        arrays = policy_arrays(sc, rows[rows["sku"] == sku.id].reset_index(drop=True))
        cands = kernel.candidates_of(arrays)
        settings = kernel.scenario_constants(sc, sku)
        modes = {int(m) for m in np.unique(arrays.mode)}
        full = stream_batch(sc, sku, 0, 2, sc.seed, modes)
        lazy = stream_batch(sc, sku, 0, 2, sc.seed, modes, lead_guess=(2, 0, False))
        n = len(arrays)
        for r in range(2):
            ref = np.zeros((n, N_COUNTERS))
            assert simulate_candidates(cands, np.ones(n, np.bool_), Draws(*full.arrays(r)), settings, ref) == 0
            out = np.zeros((n, N_COUNTERS))
            todo = np.ones(n, np.bool_)
            short = simulate_candidates(cands, todo, Draws(*lazy.arrays(r)), settings, out)
            assert short == todo.sum() > 0  # two draws are too few for most
            done = ~todo
            np.testing.assert_array_equal(out[done], ref[done])
            draws = lazy.arrays(r)
            draws = draws[:8] + (lazy.full_lead(r),) + draws[9:]
            assert simulate_candidates(cands, todo, Draws(*draws), settings, out) == 0
            np.testing.assert_array_equal(out, ref)


def test_simulate_sku_equals_all_draws_whatever_the_guess(monkeypatch):
    sc = bench(40)
    rows = initial_candidates(sc)
    cases = [policy_arrays(sc, rows[rows["sku"] == sku.id].reset_index(drop=True)) for sku in sc.skus[:4]]
    df = pd.DataFrame([dict(sku=sc.skus[0].id, family=f, mode="truck", s=3, S=9, Q=4, R=R, cap=2)
                       for f in ("base_stock", "sS", "rQ", "RS", "RsS", "capped_base_stock") for R in (0, 1, 7)
                       if not (f in ("RS", "RsS") and R == 0)])
    cases.append(policy_arrays(sc, df))
    default = [kernel.simulate_sku(sc, sku, a, 3, sc.seed) for sku, a in zip(sc.skus, cases)]
    for guess in ((0, -1, False), (1, 0, False), (0, 1, False), (3, 2, False), (0, 0, True)):
        monkeypatch.setattr(kernel, "lead_guess", lambda arrays, periods, g=guess: g)
        for sku, a, d in zip(sc.skus, cases, default):
            np.testing.assert_array_equal(kernel.simulate_sku(sc, sku, a, 3, sc.seed), d)


def test_the_guess_suffices_for_periodic_and_continuous_sS_candidates():
    # Periodic review orders at most ceil(T / R) times, continuous review at most once per customer
    # order, continuous sS at most 1 + D / (S - s) times: no candidate of the bench's families (sS,
    # RS, base stock) is run twice, and fewer lead times are drawn than T+N+1.
    sc = bench(120)
    rows = initial_candidates(sc)
    reruns = drawn = everything = 0
    for sku in sc.skus[:20]:
        arrays = policy_arrays(sc, rows[rows["sku"] == sku.id].reset_index(drop=True))
        cands = kernel.candidates_of(arrays)
        settings = kernel.scenario_constants(sc, sku)
        modes = {int(m) for m in np.unique(arrays.mode)}
        batch = stream_batch(sc, sku, 0, 2, sc.seed, modes, lead_guess=kernel.lead_guess(arrays, settings.periods))
        out = np.zeros((len(arrays), N_COUNTERS))
        for r in range(2):
            drawn += batch.arrays(r)[8].size
            everything += batch.full_lead(r).size
            reruns += simulate_candidates(cands, np.ones(len(arrays), np.bool_), Draws(*batch.arrays(r)), settings,
                                          out)
    assert reruns == 0
    assert drawn < everything
