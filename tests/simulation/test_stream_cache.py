"""simulation.evaluate(..., streams=StreamCache()): the numbers of evaluate without a cache, exactly,
whatever the cache holds from earlier calls (a SKU's streams drawn for other candidates: fewer lead
times, other modes, other replications or seeds); and a cache is refused with a multi-worker executor.

The reference is evaluate without a cache, which draws every SKU's streams afresh in each call."""

from __future__ import annotations

import pandas as pd
import pytest

import simulation
from scenarios.schema import Scenario
from simulation import kernel_streams, stream_draws
from simulation.kernel_streams import StreamCache

POLICY = ["sku", "family", "mode", "s", "S", "Q", "R", "cap"]


def _scenario() -> Scenario:
    return Scenario.model_validate(dict(
        format=1, name="cache", seed=11, horizon=dict(periods=80, warmup=6), replications=3,
        customer_reaction=dict(wait=0.5, substitute=0.2, lost_sale=0.3),
        order_cycle=dict(processing=dict(dist="poisson", mean=0.5), delivery=1, promised=2),
        transport=[dict(name="truck", lead_time=dict(dist="poisson", mean=3), cost_per_shipment=40, vehicle_capacity=60),
                   dict(name="air", lead_time=dict(dist="gamma", mean=1.5, cv=0.5), cost_per_shipment=120)],
        skus=[dict(id="x", unit_cost=10.0, price=18.0, demand=dict(dist="poisson", mean=6)),
              dict(id="y", unit_cost=4.0, price=9.0, demand=dict(dist="negbin", mean=4, cv=0.9)),
              dict(id="z", unit_cost=25.0, price=40.0, demand=dict(dist="normal", mean=9, sd=3))],
    ))


def _policies(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).reindex(columns=POLICY).astype({"s": float, "S": float, "Q": float, "R": float,
                                                               "cap": float})


# Calls in order, on one cache:
CALLS = [
    # 1. a few candidates of x and y on the truck, large lots: few replenishments, few lead times drawn
    ([dict(sku="x", family="rQ", mode="truck", s=10, Q=80, R=0),
      dict(sku="x", family="sS", mode="truck", s=12, S=90, R=0),
      dict(sku="y", family="rQ", mode="truck", s=6, Q=60, R=0)], 3, 11),
    # 2. x again, small lots (many more lead times than drawn in call 1) and a periodic review; y on
    #    air (a mode its cached streams were not drawn for) and on truck with a small lot
    ([dict(sku="x", family="rQ", mode="truck", s=12, Q=2, R=0),
      dict(sku="x", family="sS", mode="truck", s=8, S=10, R=0),
      dict(sku="x", family="RS", mode="truck", S=40, R=1),
      dict(sku="y", family="rQ", mode="air", s=3, Q=5, R=0),
      dict(sku="y", family="rQ", mode="truck", s=4, Q=1, R=0)], 3, 11),
    # 3. x on air now (cached for truck only), y's call-1 candidate again, z new, x's first candidate
    ([dict(sku="z", family="base_stock", mode="air", S=25, R=0),
      dict(sku="x", family="base_stock", mode="air", S=30, R=1),
      dict(sku="y", family="rQ", mode="truck", s=6, Q=60, R=0),
      dict(sku="x", family="rQ", mode="truck", s=10, Q=80, R=0)], 3, 11),
    # 4. contenders: more replications of rows seen before (another batch of streams)
    ([dict(sku="x", family="rQ", mode="truck", s=12, Q=2, R=0),
      dict(sku="y", family="rQ", mode="air", s=3, Q=5, R=0)], 8, 11),
    # 5. another seed (another batch), then the first seed again
    ([dict(sku="y", family="sS", mode="truck", s=2, S=7, R=0)], 3, 5),
    ([dict(sku="y", family="sS", mode="truck", s=2, S=7, R=0),
      dict(sku="x", family="capped_base_stock", mode="truck", S=20, cap=3, R=0)], 3, 11),
]


def test_cached_streams_give_the_numbers_of_fresh_streams(monkeypatch):
    sc = _scenario()
    drawn: list[str] = []  # SKU of every stream batch drawn
    extended = []  # lead-time streams drawn further than at first
    batch, extend = kernel_streams.stream_batch, stream_draws.extend_lead
    monkeypatch.setattr(kernel_streams, "stream_batch", lambda scenario, sku, *a, **k: drawn.append(sku.id) or batch(scenario, sku, *a, **k))
    monkeypatch.setattr(stream_draws, "extend_lead", lambda *a: extended.append(1) or extend(*a))
    cache = StreamCache()
    per_call = []
    for rows, reps, seed in CALLS:
        policies = _policies(rows)
        drawn.clear()
        extended.clear()
        got = simulation.evaluate(sc, policies, replications=reps, seed=seed, streams=cache)
        per_call.append((list(drawn), len(extended)))
        fresh = simulation.evaluate(sc, policies, replications=reps, seed=seed)
        pd.testing.assert_frame_equal(got, fresh, check_exact=True)
    # The cache was used as intended, so the equality above covered its paths: call 2 drew only y's
    # streams again (a new mode) and extended x's lead times; call 3 drew x (new mode) and z (new);
    # calls 4 and 5 drew new batches (other replications / seed); call 6 reused everything.
    assert per_call[0][0] == ["x", "y"]
    assert per_call[1][0] == ["y"] and per_call[1][1] > 0
    assert sorted(per_call[2][0]) == ["x", "z"]
    assert sorted(per_call[3][0]) == ["x", "y"]
    assert per_call[4][0] == ["y"]
    assert per_call[5][0] == []


def test_forget_and_clear_draw_again_with_the_same_numbers():
    sc = _scenario()
    policies = _policies(CALLS[1][0])
    fresh = simulation.evaluate(sc, policies)
    cache = StreamCache()
    simulation.evaluate(sc, _policies(CALLS[0][0]), streams=cache)
    cache.forget("x")
    pd.testing.assert_frame_equal(simulation.evaluate(sc, policies, streams=cache), fresh, check_exact=True)
    cache.clear()
    pd.testing.assert_frame_equal(simulation.evaluate(sc, policies, streams=cache), fresh, check_exact=True)


def test_a_cache_with_a_multi_worker_executor_is_refused():
    from tradeoff.executors import get_executor

    sc = _scenario()
    policies = _policies(CALLS[0][0])
    with get_executor("local", jobs=2) as pool:
        with pytest.raises(ValueError):
            simulation.evaluate(sc, policies, executor=pool, streams=StreamCache())
    # a one-worker local executor runs in this process: the cache is allowed and gives the same numbers
    with get_executor("local", jobs=1) as pool:
        got = simulation.evaluate(sc, policies, executor=pool, streams=StreamCache())
    pd.testing.assert_frame_equal(got, simulation.evaluate(sc, policies), check_exact=True)


def test_streams_drawn_for_more_replications_serve_fewer(monkeypatch):
    # A refine task draws its SKUs' contender replications up front (draw_at_least): the rounds at
    # 3 replications then read the first 3 of the 8 drawn, and the contenders all 8, with the
    # numbers of fresh streams and one draw per SKU.
    sc = _scenario()
    drawn: list[str] = []
    batch = kernel_streams.stream_batch
    monkeypatch.setattr(kernel_streams, "stream_batch", lambda scenario, sku, *a, **k: drawn.append(sku.id) or batch(scenario, sku, *a, **k))
    cache = StreamCache(draw_at_least=8)
    rows, _, seed = CALLS[0]
    for reps in (3, 8):
        policies = _policies(rows)
        got = simulation.evaluate(sc, policies, replications=reps, seed=seed, streams=cache)
        pd.testing.assert_frame_equal(got, simulation.evaluate(sc, policies, replications=reps, seed=seed),
                                      check_exact=True)
    assert drawn == ["x", "y"]
