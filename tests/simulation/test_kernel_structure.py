"""The compiled loop's records and cache: what its helpers rely on, and that a new process does not compile it.

simulation/kernel_loop.py reads namedtuples (Candidates, Draws, Settings) and writes a counters record
(COUNTS) position by position into its output rows; these tests check that those records follow
the modules they mirror, and that numba's on-disk cache serves a fresh process (pool workers start
that way: a cache miss there costs seconds of compilation per worker).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from simulation import kernel_loop as kl
from simulation.counters import COUNTERS
from simulation.kernel_streams import KernelStreams

ROOT = Path(__file__).resolve().parents[2]

# Run in this process and in a fresh one: one SKU, two candidates (continuous and periodic review).
SMALL_RUN = """
import json
import numpy as np
import pandas as pd
from scenarios.schema import Scenario
from simulation import kernel, kernel_loop
from simulation.policy_arrays import policy_arrays

sc = Scenario.model_validate(dict(
    format=1, name="cache", seed=1, horizon=dict(periods=30, warmup=5), replications=1,
    transport=[dict(name="truck", lead_time=2)],
    skus=[dict(id="a", unit_cost=1.0, price=2.0, demand=dict(dist="poisson", mean=3))],
))
df = pd.DataFrame([dict(sku="a", family="sS", mode="truck", s=4, S=12, Q=np.nan, R=0, cap=np.nan),
                   dict(sku="a", family="RS", mode="truck", s=np.nan, S=12, Q=np.nan, R=3, cap=np.nan)])
counters = kernel.simulate_sku(sc, sc.skus[0], policy_arrays(sc, df), 1, sc.seed)
stats = kernel_loop.simulate_batch.stats  # what kernel.simulate_sku calls
result = dict(hits=sum(stats.cache_hits.values()), misses=sum(stats.cache_misses.values()),
              counters=counters.tolist())
"""


def test_draws_mirror_the_kernel_streams():
    # Draws is built positionally from a stream batch laid out as KernelStreams: a stream added to
    # one and not the other would never reach the loop.
    assert kl.Draws._fields == tuple(f.name for f in dataclasses.fields(KernelStreams))


def test_counts_record_follows_the_counter_order():
    assert kl.COUNTS.names == COUNTERS
    assert all(kl.COUNTS.fields[name][1] == 8 * k for k, name in enumerate(COUNTERS))  # 8 bytes each
    assert kl.COUNTS.itemsize == 8 * len(COUNTERS)
    floats = [name for name in COUNTERS if kl.COUNTS.fields[name][0] == np.float64]
    assert floats == ["cycle_time_sum", "cycle_time_sq_sum"]
    assert [k for k in range(len(COUNTERS)) if kl._IS_FLOAT[k]] == [kl.C_CT_SUM, kl.C_CT_SQ]


def test_a_new_process_loads_the_compiled_loop_from_the_cache():
    here: dict = {}
    exec(SMALL_RUN, here)  # compiles, or loads, the loop for these argument types; writes the cache
    script = SMALL_RUN + "\nprint(json.dumps(result))\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    fresh = json.loads(done.stdout.strip().splitlines()[-1])
    assert (fresh["hits"], fresh["misses"]) == (1, 0), "the new process compiled the loop instead of loading it"
    assert fresh["counters"] == here["result"]["counters"]


def test_the_compiled_start_keeps_every_other_setting():
    # kernel_loop.with_start rebuilds the settings record field by field inside compiled code
    # (simulate_batch): every field but start_fraction must come back as it went in, for both record
    # classes, or a field added to Settings would silently read another's value.
    from numba import njit

    from scenarios.schema import Scenario
    from simulation.kernel import scenario_constants

    @njit
    def compiled(settings, fraction):
        return kl.with_start(settings, fraction)

    # every field a value of its own, so that two fields swapped cannot pass
    sc = Scenario.model_validate(dict(
        format=1, name="start", seed=1, horizon=dict(periods=30, warmup=5), replications=1,
        transport=[dict(name="truck", lead_time=2, vehicle_capacity=40), dict(name="air", lead_time=1, vehicle_capacity=9)],
        customer_reaction=dict(wait=0.5, substitute=0.2, lost_sale=0.3, partial_shipments=False,
                               repeated_stockout=dict(window=11, threshold=3, defect_probability=0.25)),
        expedite=dict(mode="air"), policies=dict(moq=6, pack_size=4),
        customer_tiers=dict(allocation="critical_level", tiers=[dict(name="key", share=0.3), dict(name="rest", share=0.7)]),
        skus=[dict(id="a", unit_cost=1.0, price=2.0, customers=13, demand=dict(dist="poisson", mean=3))],
    ))
    plain = scenario_constants(sc.model_copy(update={"customer_tiers": None}), sc.skus[0])
    tiered = scenario_constants(sc, sc.skus[0])
    assert type(plain) is kl.Settings and type(tiered) is kl.TieredSettings
    for settings in (plain, tiered):
        got = compiled(settings, 0.375)
        want = settings._replace(start_fraction=0.375)
        assert type(got) is type(want)
        for name in kl.Settings._fields:
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
