"""Raw counters of many SKUs at once, on a process pool over SKUs (results identical to one process).

Each SKU's counters depend only on the scenario, its candidates, the replications and the seed
(its streams are keyed by the SKU id), so SKUs can be simulated anywhere in any order. The scenario
is sent to each worker ONCE (pool initializer) and SKUs go in a few chunks balanced by work, so a
1,000-SKU scenario is not pickled a thousand times. Workers are forked from a clean fork server
that has imported the engine once ("forkserver", as tradeoff.executors; "spawn" where there is
none); plain `fork` of the caller is never used (numba's threads do not survive it). The compiled
kernel comes from numba's on-disk cache.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from scenarios.schema import Scenario
from simulation.policy_arrays import PolicyArrays

ENGINE_MODULES = {"kernel": "simulation.kernel", "simpy": "simulation.simpy_model"}
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"

_worker: dict = {}  # the scenario of this worker process, set by _init


def _init(scenario_pickle: bytes) -> None:
    _worker["scenario"] = pickle.loads(scenario_pickle)


def _simulate(scenario: Scenario, engine: str, items, replications: int, seed: int) -> list:
    simulate_sku = importlib.import_module(ENGINE_MODULES[engine]).simulate_sku
    by_id = {s.id: s for s in scenario.skus}
    return [(sku_id, simulate_sku(scenario, by_id[sku_id], arrays, replications, seed)) for sku_id, arrays in items]


def _run_chunk(args) -> list:
    engine, items, replications, seed = args
    return _simulate(_worker["scenario"], engine, items, replications, seed)


def chunks(items: list, work: list[float], n_chunks: int) -> list[list]:
    """Split items (in order) into at most n_chunks consecutive runs of about equal total work."""
    total = float(sum(work)) or 1.0
    out, current, acc = [], [], 0.0
    for item, w in zip(items, work):
        current.append(item)
        acc += w
        if acc >= total * (len(out) + 1) / n_chunks and len(out) < n_chunks - 1:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def simulate_skus(
    scenario: Scenario,
    arrays_by_sku: dict[str, PolicyArrays],
    replications: int,
    seed: int,
    jobs: int = 1,
    engine: str = "kernel",
) -> dict[str, np.ndarray]:
    """Raw counters float64[candidates, replications, N_COUNTERS] per SKU id, for the candidates
    `arrays_by_sku[sku_id]`; `jobs > 1` spreads the SKUs over that many worker processes."""
    if engine not in ENGINE_MODULES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {sorted(ENGINE_MODULES)}")
    items = list(arrays_by_sku.items())
    if jobs <= 1 or len(items) <= 1:
        return dict(_simulate(scenario, engine, items, replications, seed))
    work = [len(a) * replications + 1 for _, a in items]  # +1: the per-SKU stream cost
    parts = chunks(items, work, min(len(items), 4 * jobs))
    context = get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        # Only takes effect if the fork server is not running yet (then it already has its own list).
        context.set_forkserver_preload(["simulation.kernel_pool", ENGINE_MODULES[engine]])
    with ProcessPoolExecutor(max_workers=min(jobs, len(parts)), mp_context=context,
                             initializer=_init, initargs=(pickle.dumps(scenario),)) as pool:
        results = pool.map(_run_chunk, [(engine, part, replications, seed) for part in parts])
        return {sku_id: counters for part in results for sku_id, counters in part}
