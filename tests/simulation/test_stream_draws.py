"""The compiled draws (simulation.stream_draws) are numpy's, bit for bit, and load from numba's cache.

Each sampler is compared with `streams.draw_whole` / `draw_real` on a numpy Generator in the same
PCG64 state, over parameters that reach every branch of numpy's algorithms (ziggurat tails and
wedges, gamma shapes below, at and above 1, Poisson by multiplication and by PTRS, 32- and 64-bit
Lemire ranges); the seeding against numpy's SeedSequence; the streams of several replications drawn
together against `streams.sku_streams` one replication at a time, on every example scenario and the
first bench SKUs; and the numpy fallback for parameters outside the compiled range.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.loader import load
from scenarios.schema import Compound, Empirical, Fixed, Gamma, NegBin, Normal, Poisson, Scenario, Uniform
from simulation import stream_draws as sd
from simulation.kernel_streams import StreamBatch, _NumpyBatch, _slot, key_words, needs, stream_batch
from simulation.streams import draw_real, draw_whole, sku_key, sku_streams

ROOT = Path(__file__).resolve().parents[2]
M64 = (1 << 64) - 1


def generator_state(bit_generator: np.random.PCG64) -> np.ndarray:
    """A numpy PCG64's state as the uint64[6] generator of stream_draws."""
    st_ = bit_generator.state
    s, inc = st_["state"]["state"], st_["state"]["inc"]
    return np.array([s >> 64, s & M64, inc >> 64, inc & M64, st_["has_uint32"], st_["uinteger"]], np.uint64)


def compiled(dist, whole: bool, n: int, entropy) -> np.ndarray:
    kind, fp, ip, values = _slot(dist, whole)
    g = generator_state(np.random.PCG64(np.random.SeedSequence(entropy)))
    out = np.empty(n, np.int64 if whole else np.float64)
    (sd.fill_whole if whole else sd.fill_real)(kind, np.array(fp), np.array(ip, np.int64),
                                              np.array(values, np.float64), g, out)
    return out


def reference(dist, whole: bool, n: int, entropy) -> np.ndarray:
    g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
    return (draw_whole if whole else draw_real)(dist, g, n)


DISTRIBUTIONS = [
    Fixed(value=3.5), Fixed(value=0), Fixed(value=2.49),
    *(Poisson(dist="poisson", mean=m) for m in (0.0, 0.013, 0.84, 3.3, 9.999, 10.0, 14.1, 64.2, 2500.5, 3e7)),
    *(NegBin(dist="negbin", mean=m, cv=cv) for m, cv in ((14.1, 0.837), (6.4, 0.93), (0.5, 3.0), (100.0, 0.2),
                                                          (3.3, 0.83), (1e4, 1.5))),
    *(Normal(dist="normal", mean=m, sd=s) for m, s in ((64.2, 23.9), (0.0, 0.0), (2.0, 5.0), (1e6, 3e5))),
    *(Gamma(dist="gamma", mean=m, cv=cv) for m, cv in ((4.0, 0.3), (2.8, 0.52), (3.7, 0.96), (5.0, 1.0), (1.0, 2.5),
                                                       (0.7, 9.0), (100.0, 0.01))),
    *(Uniform(dist="uniform", low=lo, high=hi) for lo, hi in ((1, 2), (0, 1), (0.5, 3.7), (2.2, 2.8), (3, 3),
                                                              (0, 4294967294), (1, 4294967296), (5, 1e11))),
    Empirical(dist="empirical", values=(0, 5, 0, 9, 3.5, 0, 0, 7)), Empirical(dist="empirical", values=(4.5,)),
    Empirical(dist="empirical", values=tuple(float(x) for x in range(300))),
]


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda d: repr(d)[:60])
@pytest.mark.parametrize("whole", [True, False], ids=["whole", "real"])
def test_every_sampler_draws_numpys_numbers(dist, whole):
    n = 20_000
    for entropy in ([1, 2, 3], [12345, 987654321, 4, 100]):
        got, ref = compiled(dist, whole, n, entropy), reference(dist, whole, n, entropy)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got.view(np.uint64), ref.view(np.uint64))


def test_rare_branches_of_the_ziggurat_and_gamma():
    # 2 million normals and exponentials reach the tail (idx 0) and wedge branches many times.
    n = 2_000_000
    for dist in (Normal(dist="normal", mean=0.0, sd=1.0), Gamma(dist="gamma", mean=0.3, cv=1.0),
                 Gamma(dist="gamma", mean=0.3, cv=1.4)):
        got, ref = compiled(dist, False, n, [7, 7]), reference(dist, False, n, [7, 7])
        np.testing.assert_array_equal(got.view(np.uint64), ref.view(np.uint64))


@settings(max_examples=80, derandomize=True, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), sku=st.text(min_size=1, max_size=8), rep=st.integers(0, 2**40),
       purpose=st.integers(0, 2**33))
def test_seeding_equals_numpy(seed, sku, rep, purpose):
    words = sd._with_words(key_words(seed, sku), rep)  # [seed, sku_key, replication] words
    g = np.zeros(6, np.uint64)
    sd.seed_generator(sd.seed_words(words, np.array([purpose], np.int64))[0], g)
    ref = np.random.PCG64(np.random.SeedSequence([seed, sku_key(sku), rep, purpose]))
    np.testing.assert_array_equal(g, generator_state(ref))
    assert [int(sd.next_uint64(g)) for _ in range(3)] == [int(x) for x in ref.random_raw(3)]


def assert_batch_equals_sku_streams(sc, sku, first, count, seed, modes):
    batch = stream_batch(sc, sku, first, count, seed, modes)
    need = needs(sc, sku, modes)
    for r in range(count):
        got, ref = batch.streams(r), sku_streams(sc, sku, first + r, seed)
        n = ref.n_orders
        for name in ("order_start", "order_size", "transmittal", "processing", "delivery"):
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
        pairs = [("order_customer", "defection"), ("u_defect", "defection"), ("u_reaction", "reaction"),
                 ("expedite_lead_time", "expedite")]
        for name, flag in pairs:
            expected = getattr(ref, name) if need[flag] else np.zeros(n, getattr(ref, name).dtype)
            np.testing.assert_array_equal(getattr(got, name), expected, err_msg=name)
        assert got.lead_time.shape == (len(sc.transport), sc.horizon.warmup + sc.horizon.periods + n + 1)
        for k, m in enumerate(sc.transport):
            expected = ref.lead_time[m.name] if k in modes else np.zeros_like(ref.lead_time[m.name])
            np.testing.assert_array_equal(got.lead_time[k], expected, err_msg=m.name)
        for name in ("order_start", "order_size", "order_customer", "u_reaction", "lead_time"):
            assert getattr(got, name).flags.c_contiguous  # the layout the cached loop was compiled for
    return batch


@pytest.mark.parametrize("name", ["retail_dc", "retail_history", "service_audit", "spare_parts"])
def test_replications_drawn_together_equal_sku_streams(name):
    sc = load(ROOT / f"scenarios/examples/{name}.yaml", overrides=["horizon.periods=80"])
    modes = set(range(len(sc.transport)))
    for sku in sc.skus[:6]:
        batch = assert_batch_equals_sku_streams(sc, sku, 0, 3, sc.seed, modes)
        assert isinstance(batch, StreamBatch)
        assert_batch_equals_sku_streams(sc, sku, 2, 2, sc.seed + 1, {0})  # not from replication 0


def test_bench_skus_and_variants_equal_sku_streams():
    sc = load(ROOT / "scenarios/bench/bench_1000.yaml", overrides=["horizon.periods=60"])
    for sku in sc.skus[:25]:
        assert_batch_equals_sku_streams(sc, sku, 0, 3, sc.seed, {0, 1})
    variants = [
        "skus[0].demand={dist: empirical, values: [0, 5, 0, 9, 3, 0, 0, 7], block: 3}",
        "skus[1].demand={dist: compound, orders: {dist: negbin, mean: 2, cv: 1.2},"
        " size: {dist: empirical, values: [0, 1, 4]}}",
        "skus[2].demand={dist: compound, orders: 2, size: {dist: uniform, low: 0, high: 3}}",
        "skus[3].demand={dist: uniform, low: 2.5, high: 2.7}",
        "expedite={mode: parcel}",
        "customer_reaction={wait: 0.5, substitute: 0.5, lost_sale: 0,"
        " repeated_stockout: {window: 5, threshold: 2, defect_probability: 0.5}}",
        "order_cycle={transmittal: {dist: uniform, low: 0, high: 1}, processing: {dist: empirical, values: [0, 0.5]},"
        " delivery: {dist: normal, mean: 1, sd: 0.3}, promised: 2}",
    ]
    sc = load(ROOT / "scenarios/bench/bench_1000.yaml", overrides=["horizon.periods=60", *variants])
    for sku in sc.skus[:4]:
        assert_batch_equals_sku_streams(sc, sku, 0, 3, sc.seed, {0, 1})
        assert_batch_equals_sku_streams(sc, sku, 1, 2, 99, {1})


def test_parameters_beyond_the_compiled_range_are_drawn_by_numpy(monkeypatch):
    # Scenario validation keeps parameters below the compiled limit (1e12 units per period, 1e6
    # periods), so the fallback is tried here with a limit of 20: a SKU whose demand or a used
    # mode's lead time has a larger parameter is drawn by numpy, with the same numbers.
    import simulation.kernel_streams as ks

    monkeypatch.setattr(ks, "_COMPILED_LIMIT", 20.0)
    sc = Scenario.model_validate(dict(
        format=1, name="big", seed=3, horizon=dict(periods=30, warmup=2), replications=2,
        customer_reaction=dict(wait=0.5, substitute=0.2, lost_sale=0.3),
        transport=[dict(name="t", lead_time=dict(dist="gamma", mean=4, cv=0.3)), dict(name="p", lead_time=25)],
        skus=[dict(id="a", unit_cost=1.0, price=2.0, demand=dict(dist="poisson", mean=64.2)),
              dict(id="b", unit_cost=1.0, price=2.0, demand=dict(dist="poisson", mean=3.5))],
    ))
    assert isinstance(assert_batch_equals_sku_streams(sc, sc.skus[0], 0, 2, sc.seed, {0}), _NumpyBatch)
    assert isinstance(assert_batch_equals_sku_streams(sc, sc.skus[1], 1, 2, sc.seed, {0, 1}), _NumpyBatch)
    assert isinstance(assert_batch_equals_sku_streams(sc, sc.skus[1], 0, 2, sc.seed, {0}), StreamBatch)
    assert _slot(Compound(dist="compound", orders=Fixed(value=1), size=Fixed(value=1)), True) is None


CACHED = """
import json
from scenarios.loader import load
from simulation import stream_draws as sd
from simulation.kernel_streams import stream_batch
sc = load("scenarios/bench/bench_1000.yaml", overrides=["horizon.periods=20"])
arrays = [stream_batch(sc, sku, 0, 2, sc.seed, {0, 1}).order_size.tolist() for sku in sc.skus[:3]]
stats = sd.sku_streams.stats
result = dict(hits=sum(stats.cache_hits.values()), misses=sum(stats.cache_misses.values()), arrays=arrays)
"""


def test_a_new_process_loads_the_compiled_streams_from_the_cache():
    here: dict = {}
    exec(CACHED, here)  # compiles, or loads, for these argument types; writes the cache
    done = subprocess.run([sys.executable, "-c", CACHED + "\nprint(json.dumps(result))\n"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    fresh = json.loads(done.stdout.strip().splitlines()[-1])
    assert (fresh["hits"], fresh["misses"]) == (1, 0), "the new process compiled the streams instead of loading them"
    assert fresh["arrays"] == here["result"]["arrays"]
