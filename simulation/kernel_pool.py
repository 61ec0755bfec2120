"""Raw counters of many SKUs at once, on a process pool over SKUs (results identical to one process).

Each SKU's counters depend only on the scenario, its candidates, the replications and the seed
(its streams are keyed by the SKU id), so SKUs can be simulated anywhere in any order. The scenario
is sent to each worker ONCE (pool initializer) and SKUs go in a few chunks balanced by work, so a
1,000-SKU scenario is not pickled a thousand times. Workers are forked from a clean fork server
that has imported the engine once ("forkserver", as tradeoff.executors; "spawn" where there is
none); plain `fork` of the caller is never used (numba's threads do not survive it). The compiled
kernel comes from numba's on-disk cache. Workers die with the caller, even one killed with SIGKILL
(tradeoff.lifeline: the fork server exits with its owner, each worker with its parent and owner).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from scenarios.schema import Scenario
from simulation.policy_arrays import PolicyArrays

ENGINE_MODULES = {"kernel": "simulation.kernel", "simpy": "simulation.simpy_model"}
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"

_worker: dict = {}  # the scenario of this worker process, set by _init


LIFELINE = "tradeoff.lifeline"  # first in the fork server's preload: it then exits with its owner


def _init(scenario_pickle: bytes, owner: int | None = None) -> None:
    from tradeoff.lifeline import bind_to_owner

    bind_to_owner(owner)  # never outlive the process that made the pool (even killed outright)
    _worker["scenario"] = pickle.loads(scenario_pickle)


def _run_chunk(args) -> list:
    fn, part = args
    return [fn(_worker["scenario"], *item) for item in part]


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


def map_with_scenario(
    scenario: Scenario,
    fn: Callable,
    items: Sequence[tuple],
    jobs: int = 1,
    work: Sequence[float] | None = None,
    preload: Sequence[str] = (),
) -> list:
    """[fn(scenario, *item) for item in items], in order; `jobs > 1` runs them on a pool of that many
    workers that each receive the scenario once, items going in about 4 x jobs chunks balanced by
    `work` (default: equal). `fn` must be a module-level function; `preload` names modules the fork
    server imports once (the engine)."""
    items = list(items)
    if jobs <= 1 or len(items) <= 1:
        return [fn(scenario, *item) for item in items]
    parts = chunks(items, list(work) if work is not None else [1.0] * len(items), min(len(items), 4 * jobs))
    context = get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        # Only takes effect if the fork server is not running yet (then it already has its own list).
        context.set_forkserver_preload([LIFELINE, "simulation.kernel_pool", *preload])
    with ProcessPoolExecutor(max_workers=min(jobs, len(parts)), mp_context=context,
                             initializer=_init, initargs=(pickle.dumps(scenario), os.getpid())) as pool:
        return [result for part in pool.map(_run_chunk, [(fn, part) for part in parts]) for result in part]


def simulate_one(scenario: Scenario, engine: str, sku_id: str, arrays: PolicyArrays, replications: int, seed: int):
    """Raw counters of one SKU by the named engine (a worker task of simulate_skus)."""
    simulate_sku = importlib.import_module(ENGINE_MODULES[engine]).simulate_sku
    return simulate_sku(scenario, scenario.skus[scenario.sku_index(sku_id)], arrays, replications, seed)


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
    items = [(engine, sku_id, arrays, replications, seed) for sku_id, arrays in arrays_by_sku.items()]
    work = [len(a) * replications + 1 for a in arrays_by_sku.values()]  # +1: the per-SKU stream cost
    results = map_with_scenario(scenario, simulate_one, items, jobs, work, preload=[ENGINE_MODULES[engine]])
    return dict(zip(arrays_by_sku, results))
