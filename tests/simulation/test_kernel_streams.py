"""The kernel's fast stream drawing gives exactly the arrays of simulation.streams.sku_streams."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_equality import scenarios

from simulation.kernel_streams import kernel_streams, needs, pcg64_states
from simulation.streams import sku_streams


@settings(max_examples=60, derandomize=True, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), sku=st.text(min_size=1, max_size=8), rep=st.integers(0, 2**40),
       purposes=st.lists(st.integers(0, 2**33), min_size=1, max_size=5))
def test_seeding_equals_numpy_seed_sequence(seed, sku, rep, purposes):
    from simulation.streams import sku_key

    for purpose, (state, inc) in zip(purposes, pcg64_states(seed, sku, rep, purposes)):
        ref = np.random.PCG64(np.random.SeedSequence([seed, sku_key(sku), rep, purpose])).state["state"]
        assert (ref["state"], ref["inc"]) == (state, inc)


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_streams_equal_sku_streams(data):
    sc = data.draw(scenarios())
    sku = sc.skus[0]
    rep = data.draw(st.integers(0, 3))
    modes = set(data.draw(st.lists(st.integers(0, len(sc.transport) - 1), min_size=1, max_size=2)))
    ref = sku_streams(sc, sku, rep, sc.seed)
    got = kernel_streams(sc, sku, rep, sc.seed, modes)
    need = needs(sc, sku, modes)
    for name in ("order_start", "order_size", "transmittal", "processing", "delivery", "expedite_lead_time"):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
    if need["defection"]:
        np.testing.assert_array_equal(got.order_customer, ref.order_customer)
        np.testing.assert_array_equal(got.u_defect, ref.u_defect)
    if need["reaction"]:
        np.testing.assert_array_equal(got.u_reaction, ref.u_reaction)
    for k in modes:
        np.testing.assert_array_equal(got.lead_time[k], ref.lead_time[sc.transport[k].name])


def test_threads_draw_their_own_streams():
    # The reusable generator is per thread: concurrent simulations must not mix their draws.
    from concurrent.futures import ThreadPoolExecutor

    from scenarios.schema import Scenario

    sc = Scenario.model_validate(dict(
        format=1, name="th", horizon=dict(periods=300), transport=[dict(name="t", lead_time=dict(dist="poisson", mean=3))],
        customer_reaction=dict(wait=0.5, substitute=0.5, lost_sale=0.0),
        skus=[dict(id=f"s{i}", unit_cost=1.0, price=2.0, demand=dict(dist="poisson", mean=4)) for i in range(8)],
    ))
    jobs = [(sku, r) for sku in sc.skus for r in range(6)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda job: kernel_streams(sc, job[0], job[1], 1, {0}), jobs))
    for (sku, r), g in zip(jobs, got):
        ref = sku_streams(sc, sku, r, 1)
        np.testing.assert_array_equal(g.order_size, ref.order_size)
        np.testing.assert_array_equal(g.u_reaction, ref.u_reaction)
        np.testing.assert_array_equal(g.lead_time[0], ref.lead_time["t"])


def test_block_bootstrap_demand_is_the_same_in_both_engines():
    """Empirical demand resampled in blocks (demand from history): the kernel draws the same orders as
    simulation.streams and both engines give the same numbers (it drew each period alone before)."""
    from pathlib import Path

    import pandas as pd

    import scenarios
    import simulation
    from optimizer import initial_candidates

    root = Path(__file__).resolve().parents[2]
    sc = scenarios.load(root / "scenarios/examples/retail_dc.yaml", overrides=[
        "skus[0].demand={dist: empirical, values: [0, 5, 0, 9, 3, 0, 0, 7], block: 3}",
        "horizon.periods=60", "replications=2"])
    sku = sc.skus[0]
    for rep in range(2):
        ref = sku_streams(sc, sku, rep, sc.seed)
        got = kernel_streams(sc, sku, rep, sc.seed, {0})
        np.testing.assert_array_equal(got.order_start, ref.order_start)
        np.testing.assert_array_equal(got.order_size, ref.order_size)
    policies = initial_candidates(sc)
    policies = policies[policies["sku"] == sku.id].head(4).reset_index(drop=True)
    kernel = simulation.evaluate(sc, policies, engine="kernel")
    simpy = simulation.evaluate(sc, policies, engine="simpy")
    pd.testing.assert_frame_equal(kernel, simpy, check_exact=False, rtol=1e-9)
