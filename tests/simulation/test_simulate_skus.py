"""simulate_skus on an executor's process pool returns exactly the counters of one process, SKU by SKU
(simulation owns no pool: the caller passes a tradeoff.executors executor)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.schema import Scenario
from simulation.kernel import simulate_sku
from simulation.evaluate import chunks, simulate_skus
from simulation.policy_arrays import policy_arrays
from tradeoff.executors import get_executor


def test_pool_equals_one_process():
    sc = Scenario.model_validate(dict(
        format=1, name="pool", seed=5, horizon=dict(periods=60, warmup=5), replications=2,
        customer_reaction=dict(wait=0.5, substitute=0.2, lost_sale=0.3),
        transport=[dict(name="truck", lead_time=dict(dist="poisson", mean=2))],
        skus=[dict(id=f"s{i}", unit_cost=1.0, price=2.0, demand=dict(dist="poisson", mean=1 + i)) for i in range(5)],
    ))
    arrays = {
        sku.id: policy_arrays(sc, pd.DataFrame([
            dict(sku=sku.id, family="sS", mode=None, s=float(s), S=float(s + 6), Q=np.nan, R=r, cap=np.nan)
            for s in range(i + 1) for r in (0, 1)
        ]))
        for i, sku in enumerate(sc.skus)
    }
    with get_executor("local", jobs=2) as pool:
        pooled = simulate_skus(sc, arrays, 2, 9, executor=pool)
    assert list(pooled) == list(arrays)
    for sku in sc.skus:
        np.testing.assert_array_equal(pooled[sku.id], simulate_sku(sc, sku, arrays[sku.id], 2, 9))


def test_chunks_keep_order_and_balance_work():
    items = list(range(10))
    parts = chunks(items, [1] * 10, 4)
    assert [x for p in parts for x in p] == items and len(parts) == 4
    assert max(len(p) for p in parts) <= 3
    heavy = chunks(items, [100] + [1] * 9, 3)
    assert heavy[0] == [0] and [x for p in heavy for x in p] == items
