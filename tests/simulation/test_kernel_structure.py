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
